package routing

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/http"
)

// Predicate names of traffic splitting, process state and hashed header values.
const (
	predTraffic        = "Traffic"
	predTrafficSegment = "TrafficSegment"
	predShutdown       = "Shutdown"
	predHeaderSHA256   = "HeaderSHA256"
)

// trafficMatcher is a Traffic(chance[, cookie, group]) predicate: it matches a request with
// the given chance; with a cookie and a group, a request whose cookie names a group matches
// if and only if the group is this one, whatever the chance (Skipper's sticky traffic).
type trafficMatcher struct {
	chance        float64
	cookie, group string // group "" is not sticky
	validCookie   bool   // cookie is a token; no request has a cookie of another name
}

// segmentMatcher is a TrafficSegment(min, max) predicate: it matches when the request's number
// in [0, 1), one per match shared by all routes (see matchInput), is in [min, max).
type segmentMatcher struct {
	min, max float64
}

// headerHash is a HeaderSHA256(name, hash...) predicate: the request's first value of the
// header, if not empty, must have one of the SHA-256 hashes.
type headerHash struct {
	name   string // canonical
	hashes [][sha256.Size]byte
}

func (m *matcher) addTraffic(c Call) error {
	bad := fmt.Errorf("%s predicate expects a chance from 0 to 1, optionally followed by a cookie name and a traffic group", c.Name)
	if len(c.Args) != 1 && len(c.Args) != 3 {
		return bad
	}
	chance, ok := c.Args[0].(float64)
	if !ok || chance < 0 || chance > 1 {
		return bad
	}
	t := trafficMatcher{chance: chance}
	if len(c.Args) == 3 {
		if !allStrings(c.Args[1:], 2) {
			return bad
		}
		t.cookie, t.group = c.Args[1].(string), c.Args[2].(string)
		t.validCookie = isToken(t.cookie)
	}
	m.extra().traffic = append(m.extra().traffic, t)
	m.weight++
	return nil
}

// addSegment adds a TrafficSegment predicate. As in Skipper, it does not add to the route's
// weight, so that the routes of one split keep the precedence they have without it.
func (m *matcher) addSegment(c Call) error {
	bad := fmt.Errorf("%s predicate expects 2 numbers min and max, 0 <= min <= max <= 1", c.Name)
	if len(c.Args) != 2 {
		return bad
	}
	lo, ok1 := c.Args[0].(float64)
	hi, ok2 := c.Args[1].(float64)
	if !ok1 || !ok2 || lo < 0 || hi > 1 || lo > hi {
		return bad
	}
	m.extra().segments = append(m.extra().segments, segmentMatcher{lo, hi})
	return nil
}

func (m *matcher) addHeaderHash(c Call) error {
	if len(c.Args) < 2 || !allStrings(c.Args, len(c.Args)) {
		return fmt.Errorf("%s predicate expects a header name and at least 1 hex SHA-256 hash", c.Name)
	}
	h := headerHash{name: http.CanonicalHeaderKey(c.Args[0].(string))}
	for i, a := range c.Args[1:] {
		b, err := hex.DecodeString(a.(string))
		if err != nil || len(b) != sha256.Size {
			// The argument is left out of the message: it is a hash, not a secret, but nobody
			// needs to see it to find argument i+2.
			return fmt.Errorf("%s predicate: argument %d is not a hex SHA-256 hash (64 hex digits)", c.Name, i+2)
		}
		h.hashes = append(h.hashes, [sha256.Size]byte(b))
	}
	m.extra().headerHashes = append(m.extra().headerHashes, h)
	m.weight++
	return nil
}

func (m *matcher) addShutdown(c Call, shuttingDown func() bool) error {
	if len(c.Args) != 0 {
		return fmt.Errorf("%s predicate expects no arguments", c.Name)
	}
	if shuttingDown == nil {
		shuttingDown = func() bool { return false }
	}
	m.extra().shutdown = shuttingDown
	m.weight++
	return nil
}

// matchStatePredicates checks the predicates that depend on chance or on the process, and the
// requestMatchers.
func (m *morePredicates) matchStatePredicates(in *matchInput) bool {
	if m.shutdown != nil && !m.shutdown() {
		return false
	}
	for i := range m.headerHashes {
		if !m.headerHashes[i].match(in.r) {
			return false
		}
	}
	for _, s := range m.segments {
		if v := in.segmentSample(); v < s.min || v >= s.max {
			return false
		}
	}
	for i := range m.traffic {
		if !m.traffic[i].match(in.r) {
			return false
		}
	}
	for _, c := range m.custom {
		if !c.match(in.r) {
			return false
		}
	}
	return true
}

func (t *trafficMatcher) match(r *http.Request) bool {
	if t.group != "" && t.validCookie {
		if v, ok := cookie(r, t.cookie); ok {
			return v == t.group
		}
	}
	return rand.Float64() < t.chance
}

func (h *headerHash) match(r *http.Request) bool {
	vs := r.Header[h.name]
	if len(vs) == 0 || vs[0] == "" {
		return false
	}
	sum := sha256.Sum256([]byte(vs[0]))
	for _, want := range h.hashes {
		if sum == want {
			return true
		}
	}
	return false
}
