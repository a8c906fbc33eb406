package ratelimit

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/skipper-egress/skipper/internal/httpsyntax"
)

// HeaderXForwardedFor names the client address in ClientKey's header list rather than the raw
// header: it selects the first X-Forwarded-For entry, or the connection's address.
const HeaderXForwardedFor = "X-Forwarded-For"

// maxLimit keeps limits in a range where the local log's memory (8 bytes per admitted request
// per key) stays imaginable and float64 arguments convert exactly.
const maxLimit = 1 << 30

// ParseLimit converts a route argument into a request count: a whole, non-negative number, as
// the route parser produces (float64) or as Go code passes (int). Zero is allowed and refuses
// every request, as in Skipper. Skipper truncates fractions; we reject them.
func ParseLimit(arg any) (int, error) {
	var f float64
	switch v := arg.(type) {
	case float64:
		f = v
	case int:
		f = float64(v)
	default:
		return 0, fmt.Errorf("request count must be a number, got %T", arg)
	}
	if f < 0 || f > maxLimit || f != math.Trunc(f) {
		return 0, fmt.Errorf("request count %v is not a whole number from 0 to %d", f, maxLimit)
	}
	return int(f), nil
}

// ParsePeriod converts a route argument into a rate limit period, as Skipper reads it: a string
// is a Go duration ("1s", "1m30s"), a number counts seconds (fractions allowed). The period
// must be at least a millisecond.
func ParsePeriod(arg any) (time.Duration, error) {
	var d time.Duration
	switch v := arg.(type) {
	case string:
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			return 0, fmt.Errorf("period %q is not a duration such as \"1s\" or \"1m\"", v)
		}
	case float64:
		// The negated comparison also catches NaN.
		if ns := v * float64(time.Second); !(ns >= float64(time.Millisecond) && ns < math.MaxInt64) {
			return 0, fmt.Errorf("period %v seconds is out of range", v)
		}
		d = time.Duration(v * float64(time.Second))
	case int:
		if v < 0 || int64(v) > math.MaxInt64/int64(time.Second) {
			return 0, fmt.Errorf("period %v seconds is out of range", v)
		}
		d = time.Duration(v) * time.Second
	default:
		return 0, fmt.Errorf("period must be a duration string or a number of seconds, got %T", arg)
	}
	if d < time.Millisecond {
		return 0, fmt.Errorf("period %v is shorter than 1ms", d)
	}
	return d, nil
}

// ParseHeaders reads the optional client argument of clientRatelimit and clusterClientRatelimit:
// one header name or several separated by commas, whose values together identify a client.
// Names are returned in canonical form.
func ParseHeaders(arg string) ([]string, error) {
	parts := strings.Split(arg, ",")
	names := make([]string, 0, len(parts))
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if !httpsyntax.IsToken(p) {
			return nil, fmt.Errorf("%q is not a header name", p)
		}
		names = append(names, http.CanonicalHeaderKey(p))
	}
	return names, nil
}

// ClientKey returns the identity a per-client limit counts r under. With no headers it is the
// client address: the first X-Forwarded-For entry when that is an IP address, else the host of
// r.RemoteAddr (X-Forwarded-For can be set by anyone, so it identifies clients only behind a
// load balancer that overwrites it). With headers it is their values joined by NUL bytes, where
// HeaderXForwardedFor stands for the client address; if every value is empty the result is "",
// and the limit should not apply, as in Skipper. Skipper's clientRatelimit with the single header
// X-Forwarded-For takes its raw value; we take the client address there too.
//
// The result can hold an Authorization header: it must not be logged or exported. The limiters
// hash it before it leaves their memory.
func ClientKey(r *http.Request, headers []string) string {
	switch len(headers) {
	case 0:
		return remoteHost(r)
	case 1:
		return headerKey(r, headers[0])
	}
	var b strings.Builder
	empty := true
	for i, h := range headers {
		if i > 0 {
			b.WriteByte(0)
		}
		v := headerKey(r, h)
		empty = empty && v == ""
		b.WriteString(v)
	}
	if empty {
		return ""
	}
	return b.String()
}

func headerKey(r *http.Request, name string) string {
	if name == HeaderXForwardedFor {
		return remoteHost(r)
	}
	return r.Header.Get(name)
}

func remoteHost(r *http.Request) string {
	if xff := r.Header.Get(HeaderXForwardedFor); xff != "" {
		first, _, _ := strings.Cut(xff, ",")
		first = strings.TrimSpace(first)
		if _, err := netip.ParseAddr(first); err == nil {
			return first
		}
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// RetryAfterSeconds converts a Limiter's retryAfter into the value of a Retry-After header:
// whole seconds, rounded up, and at least 1, since 0 would invite an immediate retry that the
// limit refuses again (Skipper does the same).
func RetryAfterSeconds(d time.Duration) int {
	s := d / time.Second
	if d%time.Second > 0 {
		s++
	}
	return int(max(1, s))
}
