package proxy

import (
	"net/url"
	"os"
	"strings"
	"sync/atomic"
)

// queryError returns the error url.ParseQuery returns for q, a request's raw query: nil when
// ParseQuery accepts it, found without the map ParseQuery builds, which would cost every
// request with a query a handful of allocations.
func queryError(q string) error {
	if validQuery(q) {
		return nil
	}
	_, err := url.ParseQuery(q)
	return err
}

// validQuery reports whether url.ParseQuery returns no error for q. ParseQuery splits q at
// "&", then each pair at its first "="; it refuses a pair holding ";" and a key or value with a
// "%" not followed by two hex digits, and, before anything else, a query of more parameters
// ("&" count plus one) than its limit. Neither "&" nor "=" is a hex digit, so the escapes of
// every key and value are well-formed exactly when those of the whole query are.
func validQuery(q string) bool {
	params := 1
	for i := 0; i < len(q); i++ {
		switch q[i] {
		case '&':
			params++
		case ';':
			return false
		case '%':
			if i+2 >= len(q) || !isHex(q[i+1]) || !isHex(q[i+2]) {
				return false
			}
			i += 2
		}
	}
	return paramsWithinLimit(params)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// defaultMaxQueryParams is url.ParseQuery's limit on the number of parameters in a query,
// unless GODEBUG's urlmaxqueryparams sets another (0: none).
const defaultMaxQueryParams = 10000

// paramLimit is what is known of url.ParseQuery's limit under one value of the GODEBUG
// environment variable: every count up to maxOK is accepted, every count from minBad refused.
// Go's default for the limit comes from the binary and cannot change; GODEBUG can (os.Setenv),
// and ParseQuery follows it.
type paramLimit struct {
	godebug       string
	maxOK, minBad int
}

var knownParamLimit atomic.Pointer[paramLimit]

// paramsWithinLimit reports whether url.ParseQuery accepts a query of n parameters. It asks
// ParseQuery itself, with a query of n empty parameters, when it cannot tell from what it
// learnt before under the same GODEBUG; the limit is a bound, so each answer settles a range
// of counts. The first question asks about the default limit, which settles all counts unless
// GODEBUG sets another.
func paramsWithinLimit(n int) bool {
	godebug := os.Getenv("GODEBUG")
	l := knownParamLimit.Load()
	if l == nil || l.godebug != godebug {
		l = &paramLimit{godebug: godebug, minBad: -1}
		l.learn(defaultMaxQueryParams)
		l.learn(defaultMaxQueryParams + 1)
		knownParamLimit.Store(l)
	}
	if n <= l.maxOK {
		return true
	}
	if l.minBad >= 0 && n >= l.minBad {
		return false
	}
	next := *l
	next.learn(n)
	knownParamLimit.Store(&next) // racing requests may lose each other's answer: it is asked again
	return n <= next.maxOK
}

// learn asks url.ParseQuery whether it accepts a query of n parameters.
func (l *paramLimit) learn(n int) {
	if _, err := url.ParseQuery(strings.Repeat("&", n-1)); err == nil {
		l.maxOK = max(l.maxOK, n)
	} else if l.minBad < 0 || n < l.minBad {
		l.minBad = n
	}
}
