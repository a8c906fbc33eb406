package routing

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// predicateNames are the predicates Compile knows, for suggestions; "*" is left out, since
// nobody misspells it.
var predicateNames = []string{
	predAnyOld, predPath, predPathSubtree, predPathRegexp, predHost, predHostAny, predMethod,
	predMethods, predHeader, predHeaderRegexp, predTrue, predFalse, predWeight, predCookie,
	predQueryParam, predClientIP, predSource, predSourceLast, predTraffic, predTrafficSegment,
	predShutdown, predHeaderSHA256, predBetween, predBefore, predAfter, predCron,
	predContentLengthBetween,
	predForwardedHost, predForwardedProtocol, predJWTAnyKV, predJWTAllKV, predJWTAnyKVRegexp,
	predJWTAllKVRegexp, predOTelBaggage, predTee, predProxyUser,
}

// maxSuggestDistance is the largest edit distance at which a known name is suggested for an
// unknown one; a name must also differ in fewer than half its characters.
const maxSuggestDistance = 2

// closest returns the known name that name most likely misspells: one that differs only in
// case, or else the nearest within a small edit distance (ignoring case), the first in known on
// a tie. It returns "" when nothing is close.
func closest(name string, known []string) string {
	lower := strings.ToLower(name)
	for _, k := range known {
		if strings.ToLower(k) == lower {
			return k
		}
	}
	best, bestDist := "", maxSuggestDistance+1
	for _, k := range known {
		d := editDistance(lower, strings.ToLower(k))
		if d < bestDist && 2*d < len(name) {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, counted in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// didYouMean returns `; did you mean "x"?` for the closest known name, or "".
func didYouMean(name string, known []string) string {
	if s := closest(name, known); s != "" {
		return "; did you mean " + strconv.Quote(s) + "?"
	}
	return ""
}

// withHTTP returns addr with http:// in front when addr has no scheme but is a usable backend
// that way ("127.0.0.1:8080", "localhost:8080", "api.internal"), for a suggestion.
func withHTTP(addr string) (*url.URL, bool) {
	if strings.Contains(addr, "://") {
		return nil, false
	}
	u, err := url.Parse("http://" + addr)
	if err != nil || u.Hostname() == "" {
		return nil, false
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, false
		}
	}
	return u, true
}

// noSchemeError is the error for a backend address without a scheme, suggesting http://. User
// info is redacted in both, as everywhere a backend is shown.
func noSchemeError(err error, addr string, u *url.URL) error {
	shown := addr
	if u.User != nil {
		shown = strings.TrimPrefix(u.Redacted(), "http://")
	}
	return fmt.Errorf("%w %q: no scheme; did you mean %q?", err, abbreviate(shown), abbreviate(u.Redacted()))
}
