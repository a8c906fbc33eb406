package routing

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Predicate names of the JWT payload predicates.
const (
	predJWTAnyKV       = "JWTPayloadAnyKV"
	predJWTAllKV       = "JWTPayloadAllKV"
	predJWTAnyKVRegexp = "JWTPayloadAnyKVRegexp"
	predJWTAllKVRegexp = "JWTPayloadAllKVRegexp"
)

// jwtPayload is a JWTPayloadAnyKV, JWTPayloadAllKV, JWTPayloadAnyKVRegexp or
// JWTPayloadAllKVRegexp(key, value, ...) predicate, as Skipper's: the request has
// "Authorization: Bearer " and a JWT whose payload has string claims that match (all of, or any
// of) the key and value pairs, the values compared exactly or as regexps.
//
// The token is only decoded, never verified: its signature is not checked, so a client can
// write any claims it likes. These predicates choose a route; they are no authentication.
type jwtPayload struct {
	all  bool
	keys []string // in argument order, one per pair
	vals []textMatcher
}

func newJWTPayload(c Call) (*jwtPayload, error) {
	n := len(c.Args)
	if n == 0 || n%2 != 0 || !allStrings(c.Args, n) {
		return nil, fmt.Errorf("%s predicate expects key and value string pairs", c.Name)
	}
	p := &jwtPayload{all: c.Name == predJWTAllKV || c.Name == predJWTAllKVRegexp}
	regexps := c.Name == predJWTAnyKVRegexp || c.Name == predJWTAllKVRegexp
	for i := 0; i < n; i += 2 {
		v := c.Args[i+1].(string)
		m := textMatcher{mode: modeExact, lit: v}
		if regexps {
			var err error
			if m, err = newTextMatcher(v); err != nil {
				return nil, fmt.Errorf("%s predicate: %w", c.Name, err)
			}
		}
		p.keys = append(p.keys, c.Args[i].(string))
		p.vals = append(p.vals, m)
	}
	return p, nil
}

func (p *jwtPayload) match(r *http.Request) bool {
	claims, ok := jwtClaims(r.Header.Get("Authorization"))
	if !ok {
		return false
	}
	for i, k := range p.keys {
		v, isString := claims[k].(string)
		ok := isString && p.vals[i].match(v)
		if ok != p.all {
			return ok // any: the first match; all: the first miss
		}
	}
	return p.all
}

// jwtClaims decodes the payload of the bearer token in an Authorization header as Skipper
// does: "Bearer " exactly, three dot-separated parts of unpadded base64url, the first two JSON
// objects (the header and the claims). Nothing is verified.
func jwtClaims(authorization string) (map[string]any, bool) {
	token, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok {
		return nil, false
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, false
	}
	var header, claims map[string]any
	if !decodeJSONPart(parts[0], &header) || !decodeJSONPart(parts[1], &claims) {
		return nil, false
	}
	if _, err := base64.RawURLEncoding.DecodeString(parts[2]); err != nil {
		return nil, false
	}
	return claims, true
}

func decodeJSONPart(part string, v *map[string]any) bool {
	b, err := base64.RawURLEncoding.DecodeString(part)
	return err == nil && json.Unmarshal(b, v) == nil
}
