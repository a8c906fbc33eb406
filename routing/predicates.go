package routing

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Predicate names as written in route text.
const (
	predAny          = "*"
	predAnyOld       = "Any"
	predPath         = "Path"
	predPathSubtree  = "PathSubtree"
	predPathRegexp   = "PathRegexp"
	predHost         = "Host"
	predHostAny      = "HostAny"
	predMethod       = "Method"
	predMethods      = "Methods"
	predHeader       = "Header"
	predHeaderRegexp = "HeaderRegexp"
	predTrue         = "True"
	predFalse        = "False"
	predWeight       = "Weight"
	predCookie       = "Cookie"
	predQueryParam   = "QueryParam"
	predClientIP     = "ClientIP"
	predSource       = "Source"
	predSourceLast   = "SourceFromLast"
)

// hostWildcard replaces a leading "*" in Host("*.example.org"), as Skipper does; such a Host
// does not add to the route's weight.
const hostWildcard = "[a-z0-9]+((-[a-z0-9]+)?)*"

// isKnownMethod reports whether Methods accepts m.
func isKnownMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return true
	}
	return false
}

// matcher holds a route's compiled predicates. All checks are plain comparisons or
// precompiled regexps, so matching allocates nothing. The predicates most routes have are
// fields; the others wait behind more, so that 100,000 host routes stay small.
type matcher struct {
	path    *pathPattern // nil without Path or PathSubtree
	hostRxs []textMatcher
	hostAny [][]string // one list per HostAny; each needs an exact match
	method  string
	more    *morePredicates // nil when the route has none of them
	weight  int             // the number of predicates plus Weight(n), for precedence
	never   bool            // False()

	// What the host index may use, from the Host or HostAny predicate that narrows the route
	// down most: hostKeys when hostKeyed (every host the route matches has its hostKey among
	// them; none means the route matches no host), else more.hostLits (see requiredLiterals).
	hostKeyed bool
	hostKeys  []string
}

// morePredicates are the less common predicates of a route.
type morePredicates struct {
	methods   [][]string // one list per Methods
	headers   []headerValue
	headerRxs []headerRegexp
	pathRxs   []textMatcher
	cookies   []cookieMatcher
	queries   []queryMatcher
	sources   []sourceMatcher
	hostLits  [][]string // for the host index

	traffic      []trafficMatcher
	segments     []segmentMatcher
	headerHashes []headerHash
	shutdown     func() bool // nil without Shutdown()
	custom       []requestMatcher
}

// extra returns m.more, creating it.
func (m *matcher) extra() *morePredicates {
	if m.more == nil {
		m.more = &morePredicates{}
	}
	return m.more
}

// hostLits returns the literals the host index may file the route under (see matcher).
func (m *matcher) hostLits() [][]string {
	if m.more == nil {
		return nil
	}
	return m.more.hostLits
}

type headerValue struct {
	name, value string // name canonical
}

type headerRegexp struct {
	name string // canonical
	rx   textMatcher
}

// predicateEnv is what predicates ask of the process: see CompileOptions.
type predicateEnv struct {
	shuttingDown func() bool
	now          func() time.Time
	baggage      func(r *http.Request, key string) bool
	teeKey       func(r *http.Request) string
}

// compilePredicates checks the predicates of one route and builds its matcher. It checks them
// all, and the error joins every problem found (errors.Join).
func compilePredicates(calls []Call, env predicateEnv) (*matcher, error) {
	m := &matcher{}
	rxNames := map[string]bool{}
	var errs []error
	for _, c := range calls {
		var err error
		switch c.Name {
		case predShutdown:
			err = m.addShutdown(c, env.shuttingDown)
		case predBetween, predBefore, predAfter, predCron, predContentLengthBetween, predForwardedHost,
			predForwardedProtocol, predJWTAnyKV, predJWTAllKV, predJWTAnyKVRegexp, predJWTAllKVRegexp,
			predOTelBaggage, predTee, predProxyUser:
			err = m.addCustom(c, env)
		default:
			err = m.add(c, rxNames)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return m, nil
}

func (m *matcher) add(c Call, rxNames map[string]bool) error {
	switch c.Name {
	case predAny, predAnyOld, predTrue, predFalse:
		if len(c.Args) != 0 {
			return fmt.Errorf("%s predicate expects no arguments", c.Name)
		}
		if c.Name == predTrue || c.Name == predFalse {
			m.weight++
		}
		m.never = m.never || c.Name == predFalse
		return nil
	case predWeight:
		var n float64
		ok := len(c.Args) == 1
		if ok {
			n, ok = c.Args[0].(float64)
		}
		if !ok {
			return fmt.Errorf("%s predicate expects 1 number argument", c.Name)
		}
		m.weight += int(n)
		return nil
	case predPath, predPathSubtree:
		return m.addPath(c)
	case predHost, predPathRegexp:
		return m.addRegexp(c)
	case predHostAny, predMethods:
		return m.addList(c)
	case predMethod:
		args, err := stringArgs(c, 1)
		if err != nil {
			return err
		}
		if m.method != "" {
			return errors.New("duplicate Method predicate")
		}
		m.method = args[0]
	case predHeader, predHeaderRegexp:
		return m.addHeader(c, rxNames)
	case predCookie, predQueryParam, predClientIP, predSource, predSourceLast:
		return m.addRequestPredicate(c)
	case predTraffic:
		return m.addTraffic(c)
	case predTrafficSegment:
		return m.addSegment(c)
	case predHeaderSHA256:
		return m.addHeaderHash(c)
	default:
		return fmt.Errorf("%w %q%s", ErrUnknownPredicate, c.Name, didYouMean(c.Name, predicateNames))
	}
	m.weight++
	return nil
}

func (m *matcher) addHeader(c Call, rxNames map[string]bool) error {
	args, err := stringArgs(c, 2)
	if err != nil {
		return err
	}
	name := http.CanonicalHeaderKey(args[0])
	if c.Name == predHeader {
		m.extra().headers = append(m.extra().headers, headerValue{name, args[1]})
		m.weight++
		return nil
	}
	rx, err := newTextMatcher(args[1])
	if err != nil {
		return fmt.Errorf("%s predicate: %w", c.Name, err)
	}
	m.extra().headerRxs = append(m.extra().headerRxs, headerRegexp{name, rx})
	if !rxNames[name] {
		// Skipper counts header regexps once per header name.
		rxNames[name] = true
		m.weight++
	}
	return nil
}

func (m *matcher) addPath(c Call) error {
	args, err := stringArgs(c, 1)
	if err != nil {
		return err
	}
	if m.path != nil {
		return errors.New("only one Path or PathSubtree predicate is allowed")
	}
	pp, err := compilePath(args[0], c.Name == predPathSubtree)
	if err != nil {
		return fmt.Errorf("%s predicate: %w", c.Name, err)
	}
	m.path = pp
	return nil
}

func (m *matcher) addRegexp(c Call) error {
	args, err := stringArgs(c, 1)
	if err != nil {
		return err
	}
	expr, weight := args[0], 1
	if c.Name == predHost && strings.HasPrefix(expr, "*.") {
		expr, weight = hostWildcard+expr[1:], 0
	}
	rx, a, err := compileText(expr)
	if err != nil {
		return fmt.Errorf("%s predicate: %w", c.Name, err)
	}
	if c.Name == predHost {
		m.hostRxs = append(m.hostRxs, rx)
		m.offerHostIndex(a)
	} else {
		m.extra().pathRxs = append(m.extra().pathRxs, rx)
	}
	m.weight += weight
	return nil
}

func (m *matcher) addList(c Call) error {
	if len(c.Args) == 0 {
		return fmt.Errorf("%s predicate expects at least 1 string argument", c.Name)
	}
	args, err := stringArgs(c, len(c.Args))
	if err != nil {
		return fmt.Errorf("%s predicate expects string arguments", c.Name)
	}
	m.weight++
	if c.Name == predHostAny {
		m.hostAny = append(m.hostAny, args)
		keys := make([]string, len(args))
		for i, a := range args {
			keys[i] = hostKey(a)
		}
		slices.Sort(keys)
		m.offerHostKeys(slices.Compact(keys))
		return nil
	}
	for i, a := range args {
		args[i] = strings.ToUpper(a)
		if !isKnownMethod(args[i]) {
			return fmt.Errorf("%s predicate: unknown method %q", c.Name, a)
		}
	}
	m.extra().methods = append(m.extra().methods, args)
	return nil
}

// offerHostIndex records how the host index can find a route with a Host regexp.
func (m *matcher) offerHostIndex(a textAnalysis) {
	if a.finite {
		if keys, ok := exactKeys(a.items); ok {
			m.offerHostKeys(keys)
			return
		}
	}
	if m.hostKeyed {
		return
	}
	lits, ok := requiredLiterals(a.re, a.items, a.finite)
	if ok && (m.hostLits() == nil || len(lits) < len(m.hostLits())) {
		m.extra().hostLits = lits
	}
}

// offerHostKeys keeps keys if they are fewer than the keys the route has so far. A route
// matches only if all its Host and HostAny predicates hold, so any one of them may index it.
func (m *matcher) offerHostKeys(keys []string) {
	if !m.hostKeyed || len(keys) < len(m.hostKeys) {
		m.hostKeys, m.hostKeyed = keys, true
		if m.more != nil {
			m.more.hostLits = nil
		}
	}
}

// stringArgs returns c's arguments if there are exactly n and all are strings.
func stringArgs(c Call, n int) ([]string, error) {
	if !allStrings(c.Args, n) {
		return nil, fmt.Errorf("%s predicate expects %s", c.Name, countStrings(n))
	}
	s := make([]string, n)
	for i, a := range c.Args {
		s[i] = a.(string)
	}
	return s, nil
}

// matchInput is what the predicates of every route see of one request while Table.Match runs:
// the request, its cleaned path and the random number its TrafficSegment predicates share,
// drawn when one first needs it.
type matchInput struct {
	r      *http.Request
	path   string
	sample float64
	drawn  bool
}

func newMatchInput(r *http.Request) matchInput {
	in := matchInput{r: r, path: "/"}
	if r.URL != nil {
		in.path = cleanPath(r.URL.Path)
	}
	return in
}

// segmentSample returns the request's number in [0, 1) for TrafficSegment, the same for every
// route this match tries, as in Skipper.
func (in *matchInput) segmentSample() float64 {
	if !in.drawn {
		in.sample, in.drawn = rand.Float64(), true
	}
	return in.sample
}

// match reports whether the request matches every predicate.
func (m *matcher) match(in *matchInput) bool {
	if m.path != nil && !m.path.match(in.path) {
		return false
	}
	return m.matchNonPath(in)
}

// matchNonPath is match without the Path or PathSubtree predicate, for the path tree, which
// has checked it already.
func (m *matcher) matchNonPath(in *matchInput) bool {
	r := in.r
	if m.never {
		return false
	}
	if m.method != "" && r.Method != m.method {
		return false
	}
	for _, list := range m.hostAny {
		if !contains(list, r.Host) {
			return false
		}
	}
	for i := range m.hostRxs {
		if !m.hostRxs[i].match(r.Host) {
			return false
		}
	}
	return m.more == nil || m.more.match(in)
}

func (m *morePredicates) match(in *matchInput) bool {
	r, p := in.r, in.path
	for _, list := range m.methods {
		if !contains(list, r.Method) {
			return false
		}
	}
	for i := range m.pathRxs {
		if !m.pathRxs[i].match(p) {
			return false
		}
	}
	for _, h := range m.headers {
		if !contains(r.Header[h.name], h.value) {
			return false
		}
	}
	for i := range m.headerRxs {
		if !anyMatch(&m.headerRxs[i].rx, r.Header[m.headerRxs[i].name]) {
			return false
		}
	}
	return m.matchRequestPredicates(in)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func anyMatch(m *textMatcher, values []string) bool {
	for _, v := range values {
		if m.match(v) {
			return true
		}
	}
	return false
}
