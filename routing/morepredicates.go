package routing

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/skipper-egress/skipper/filters"
)

// Predicate names of time intervals, the body's length and the Forwarded header.
const (
	predBetween              = "Between"
	predBefore               = "Before"
	predAfter                = "After"
	predCron                 = "Cron"
	predContentLengthBetween = "ContentLengthBetween"
	predForwardedHost        = "ForwardedHost"
	predForwardedProtocol    = "ForwardedProtocol"
	predOTelBaggage          = "OTelBaggage"
	predTee                  = "Tee"
	predProxyUser            = "ProxyUser"
)

// requestMatcher is a predicate that looks at the request alone.
type requestMatcher interface {
	match(r *http.Request) bool
}

// addCustom adds one of the predicates that are requestMatchers; each counts 1 toward the
// route's weight, as Skipper's plain predicates do.
func (m *matcher) addCustom(c Call, env predicateEnv) error {
	var rm requestMatcher
	var err error
	switch c.Name {
	case predBetween, predBefore, predAfter:
		rm, err = newInterval(c, env.now)
	case predCron:
		rm, err = newCron(c, env.now)
	case predOTelBaggage:
		rm, err = newBaggage(c, env.baggage)
	case predTee:
		rm, err = newTee(c, env.teeKey)
	case predProxyUser:
		rm, err = newProxyUser(c)
	case predContentLengthBetween:
		rm, err = newContentLength(c)
	case predForwardedHost, predForwardedProtocol:
		rm, err = newForwarded(c)
	default:
		rm, err = newJWTPayload(c)
	}
	if err != nil {
		return err
	}
	m.extra().custom = append(m.extra().custom, rm)
	m.weight++
	return nil
}

// interval is a Between(from, till), Before(till) or After(from) predicate: the time of the
// match is in [from, till), before till, or not before from. Times are RFC 3339 strings or Unix
// seconds (the fraction dropped), as in Skipper.
type interval struct {
	from, till time.Time // zero when open
	now        func() time.Time
}

func newInterval(c Call, now func() time.Time) (*interval, error) {
	n := 1
	if c.Name == predBetween {
		n = 2
	}
	bad := fmt.Errorf("%s predicate expects %d times, RFC 3339 strings or Unix seconds", c.Name, n)
	if len(c.Args) != n {
		return nil, bad
	}
	times := make([]time.Time, n)
	for i, a := range c.Args {
		switch v := a.(type) {
		case string:
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return nil, fmt.Errorf("%s predicate: %q is not an RFC 3339 time such as 2016-01-01T12:00:00+02:00", c.Name, v)
			}
			times[i] = t
		case float64:
			times[i] = time.Unix(int64(v), 0)
		default:
			return nil, bad
		}
	}
	if now == nil {
		now = time.Now
	}
	iv := &interval{now: now}
	switch c.Name {
	case predBetween:
		if !times[0].Before(times[1]) {
			return nil, fmt.Errorf("%s predicate: the start must be before the end", c.Name)
		}
		iv.from, iv.till = times[0], times[1]
	case predBefore:
		iv.till = times[0]
	default:
		iv.from = times[0]
	}
	return iv, nil
}

func (iv *interval) match(*http.Request) bool {
	t := iv.now()
	return (iv.from.IsZero() || !t.Before(iv.from)) && (iv.till.IsZero() || t.Before(iv.till))
}

// cronMask is a Cron("minute hour day-of-month month day-of-week") predicate: the time of the
// match, in its own time zone, fits every field. As in Skipper (which uses the cronmask
// package), a field is "*" or a comma-separated list of numbers and "from-to" ranges; there
// are no steps, names or other special characters.
type cronMask struct {
	fields [5][][2]int // per field, its ranges; nil for "*"
	now    func() time.Time
}

// cronLimits are the values each cron field allows.
var cronLimits = [5][2]int{{0, 59}, {0, 23}, {1, 31}, {1, 12}, {0, 6}}

func newCron(c Call, now func() time.Time) (*cronMask, error) {
	args, err := stringArgs(c, 1)
	if err != nil {
		return nil, err
	}
	fields := strings.Fields(args[0])
	if len(fields) != 5 {
		return nil, fmt.Errorf("%s predicate expects 5 fields: minute hour day-of-month month day-of-week", c.Name)
	}
	if now == nil {
		now = time.Now
	}
	cm := &cronMask{now: now}
	for i, f := range fields {
		if f == "*" {
			continue
		}
		for item := range strings.SplitSeq(f, ",") {
			from, to, isRange := strings.Cut(item, "-")
			if !isRange {
				to = from
			}
			lo, err1 := cronValue(from, i)
			hi, err2 := cronValue(to, i)
			if item == "" || strings.Count(item, "-") > 1 || err1 != nil || err2 != nil {
				return nil, fmt.Errorf("%s predicate: %q in field %d is not a number or range from %d to %d", c.Name, item, i+1, cronLimits[i][0], cronLimits[i][1])
			}
			cm.fields[i] = append(cm.fields[i], [2]int{lo, hi})
		}
	}
	return cm, nil
}

func cronValue(s string, field int) (int, error) {
	n, err := strconv.Atoi(s)
	if err == nil && (n < cronLimits[field][0] || n > cronLimits[field][1]) {
		err = strconv.ErrRange
	}
	return n, err
}

func (cm *cronMask) match(*http.Request) bool {
	t := cm.now()
	for i, v := range [5]int{t.Minute(), t.Hour(), t.Day(), int(t.Month()), int(t.Weekday())} {
		if cm.fields[i] != nil && !inRanges(cm.fields[i], v) {
			return false
		}
	}
	return true
}

func inRanges(rs [][2]int, v int) bool {
	for _, r := range rs {
		if r[0] <= v && v <= r[1] {
			return true
		}
	}
	return false
}

// baggageMember is an OTelBaggage(key) predicate: the request's OpenTelemetry baggage has a
// member named key (see CompileOptions.Baggage).
type baggageMember struct {
	key string
	has func(r *http.Request, key string) bool // nil: never
}

func newBaggage(c Call, has func(*http.Request, string) bool) (baggageMember, error) {
	args, err := stringArgs(c, 1)
	if err != nil {
		return baggageMember{}, err
	}
	return baggageMember{key: args[0], has: has}, nil
}

func (b baggageMember) match(r *http.Request) bool {
	return b.has != nil && b.has(r, b.key)
}

// teeMatcher is a Tee(key) predicate: the request is the shadow copy that a teeLoopback(key)
// filter made (see CompileOptions.TeeKey).
type teeMatcher struct {
	key    string
	teeKey func(r *http.Request) string // nil: never
}

func newTee(c Call, teeKey func(*http.Request) string) (teeMatcher, error) {
	args, err := stringArgs(c, 1)
	if err != nil {
		return teeMatcher{}, err
	}
	return teeMatcher{key: args[0], teeKey: teeKey}, nil
}

func (t teeMatcher) match(r *http.Request) bool {
	if t.teeKey == nil {
		return false
	}
	k := t.teeKey(r)
	return k != "" && k == t.key
}

// proxyUser is a ProxyUser(name) predicate: the forward proxy authenticated the request's client
// as name (see filters.ProxyUser). A request without proxy authentication never matches.
type proxyUser struct{ name string }

func newProxyUser(c Call) (proxyUser, error) {
	args, err := stringArgs(c, 1)
	if err != nil {
		return proxyUser{}, err
	}
	if args[0] == "" {
		return proxyUser{}, fmt.Errorf("%s predicate expects a user name, got \"\"", c.Name)
	}
	return proxyUser{name: args[0]}, nil
}

func (u proxyUser) match(r *http.Request) bool { return filters.ProxyUser(r.Context()) == u.name }

// contentLength is a ContentLengthBetween(min, max) predicate: the request's declared length
// is in [min, max); a request of unknown length (chunked) never matches.
type contentLength struct {
	min, max int64
}

func newContentLength(c Call) (contentLength, error) {
	bad := fmt.Errorf("%s predicate expects 2 numbers min and max, 0 <= min < max", c.Name)
	if len(c.Args) != 2 {
		return contentLength{}, bad
	}
	lo, ok1 := c.Args[0].(float64)
	hi, ok2 := c.Args[1].(float64)
	cl := contentLength{int64(lo), int64(hi)}
	if !ok1 || !ok2 || cl.min < 0 || cl.min >= cl.max {
		return contentLength{}, bad
	}
	return cl, nil
}

func (cl contentLength) match(r *http.Request) bool {
	return r.ContentLength >= cl.min && r.ContentLength < cl.max
}

// forwarded is a ForwardedHost(regexp) or ForwardedProtocol("http"|"https") predicate on the
// RFC 7239 Forwarded header, read as Skipper reads it: the first header line only, and of its
// host and proto parameters the last ones given.
type forwarded struct {
	host  *textMatcher // ForwardedHost
	proto string       // ForwardedProtocol
}

func newForwarded(c Call) (forwarded, error) {
	args, err := stringArgs(c, 1)
	if err != nil {
		return forwarded{}, err
	}
	if c.Name == predForwardedProtocol {
		if args[0] != "http" && args[0] != "https" {
			return forwarded{}, fmt.Errorf(`%s predicate expects "http" or "https"`, c.Name)
		}
		return forwarded{proto: args[0]}, nil
	}
	if args[0] == "" {
		return forwarded{}, fmt.Errorf("%s predicate expects a regexp that is not empty", c.Name)
	}
	rx, err := newTextMatcher(args[0])
	if err != nil {
		return forwarded{}, fmt.Errorf("%s predicate: %w", c.Name, err)
	}
	return forwarded{host: &rx}, nil
}

func (f forwarded) match(r *http.Request) bool {
	vs := r.Header["Forwarded"]
	if len(vs) == 0 || vs[0] == "" {
		return false
	}
	host, proto := forwardedParams(vs[0])
	if f.host != nil {
		return f.host.match(host)
	}
	return proto == f.proto
}

// forwardedParams returns the last non-empty host and proto parameters of a Forwarded header
// line, quotes trimmed; parameter names are case-sensitive, as in Skipper.
func forwardedParams(line string) (host, proto string) {
	for elem := range strings.SplitSeq(line, ",") {
		for pair := range strings.SplitSeq(strings.TrimSpace(elem), ";") {
			name, value, ok := strings.Cut(pair, "=")
			value = strings.Trim(value, `"`)
			if !ok || value == "" {
				continue
			}
			switch name {
			case "host":
				host = value
			case "proto":
				proto = value
			}
		}
	}
	return host, proto
}
