package filters_test

import (
	"crypto"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// authServer is a loopback authorization server that checks each grant the way a real one
// does, and issues "<prefix><n>" access tokens only when every check passes:
//   - private_key_jwt client authentication (RFC 7523 §2.2, §3): the assertion's signature
//     with the client's registered public key, iss = sub = client_id, aud, exp in the future
//     and at most 5 minutes after iat, a jti never seen before (else invalid_client);
//   - the token exchange (RFC 8693): see checkExchange;
//   - the refresh-token grant (RFC 6749 §6) with rotation: client authentication, a refresh
//     token that is valid and not used before (else invalid_grant), answered with a new one;
//   - the JWT-bearer grant (RFC 7523 §2.1): no client authentication, the same checks of the
//     assertion with the keys registered for its iss (else invalid_grant; a replayed
//     assertion too).
//
// Keys may be swapped while it runs, as when an operator rotates one.
type authServer struct {
	*httptest.Server
	prefix    string
	expiresIn int

	mu   sync.Mutex
	keys map[string][]crypto.PublicKey // client ID or issuer: the keys it may sign with
	aud  string                        // the aud assertions must have; default the token URL
	jtis map[string]bool
	// subjects are the subject tokens a token exchange accepts; client, when set, the
	// client ID and secret it requires with HTTP Basic.
	subjects map[string]bool
	client   [2]string
	// refreshTokens are the refresh tokens the refresh-token grant accepts: each is good
	// once, and is answered with a new one.
	refreshTokens map[string]bool
	rotations     int
	issued        int
	calls         []authCall
	changed       chan struct{}
}

// authCall is one token request: what was sent, and what the server made of it.
type authCall struct {
	form      url.Values
	basic     bool
	id        string // HTTP Basic
	secret    string
	claims    map[string]any // of the verified assertion
	header    map[string]any
	keyIndex  int    // which of the registered keys verified it
	errorCode string // empty when a token was issued
	token     string
	refresh   string // the new refresh token issued
}

func newAuthServer(t testing.TB, prefix string, expiresIn int) *authServer {
	t.Helper()
	s := &authServer{prefix: prefix, expiresIn: expiresIn, keys: map[string][]crypto.PublicKey{},
		jtis: map[string]bool{}, changed: make(chan struct{})}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// TokenURL is where tokens are requested.
func (s *authServer) TokenURL() string { return s.URL + "/token" }

// setKeys registers the public keys that may sign for a client ID or issuer.
func (s *authServer) setKeys(who string, keys ...crypto.PublicKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[who] = keys
}

func (s *authServer) setAudience(aud string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.aud = aud
}

func (s *authServer) Calls() []authCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]authCall(nil), s.calls...)
}

func (s *authServer) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/token" || r.ParseForm() != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	c := authCall{form: r.PostForm, keyIndex: -1}
	c.id, c.secret, c.basic = r.BasicAuth()
	s.mu.Lock()
	defer s.mu.Unlock()
	status, code, desc := s.check(&c)
	c.errorCode = code
	if code == "" {
		s.issued++
		c.token = fmt.Sprintf("%s%d", s.prefix, s.issued)
	}
	s.calls = append(s.calls, c)
	close(s.changed)
	s.changed = make(chan struct{})
	w.Header().Set("Content-Type", "application/json")
	if code != "" {
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc}) //nolint:errcheck // test server
		return
	}
	res := map[string]any{"access_token": c.token, "token_type": "Bearer", "expires_in": s.expiresIn}
	if c.refresh != "" {
		res["refresh_token"] = c.refresh
	}
	json.NewEncoder(w).Encode(res) //nolint:errcheck // test server
}

// check verifies c's request; s.mu is held. It returns the error to answer, if any.
func (s *authServer) check(c *authCall) (status int, code, desc string) {
	f := c.form
	switch f.Get("grant_type") {
	case "client_credentials":
		if f.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
			return 401, "invalid_client", "want a client assertion"
		}
		if c.basic || f.Has("client_secret") {
			return 400, "invalid_request", "more than one client authentication"
		}
		client := f.Get("client_id")
		if d := s.verifyAssertion(c, f.Get("client_assertion"), client); d != "" {
			return 401, "invalid_client", d
		}
		if c.claims["sub"] != client {
			return 401, "invalid_client", "sub is not the client"
		}
	case "urn:ietf:params:oauth:grant-type:jwt-bearer":
		if c.basic || f.Has("client_assertion") || f.Has("client_secret") {
			return 400, "invalid_request", "unexpected client authentication"
		}
		jws := f.Get("assertion")
		if d := s.verifyAssertion(c, jws, unverifiedIssuer(jws)); d != "" {
			return 400, "invalid_grant", d
		}
	case "urn:ietf:params:oauth:grant-type:token-exchange":
		return s.checkExchange(c)
	case "refresh_token":
		switch rt := f.Get("refresh_token"); {
		case !c.basic || c.id != s.client[0] || c.secret != s.client[1]:
			return 401, "invalid_client", "client authentication failed"
		case !s.refreshTokens[rt]:
			return 400, "invalid_grant", "refresh token unknown, or used already"
		default:
			delete(s.refreshTokens, rt) // rotation: the old one is good no more
			s.rotations++
			c.refresh = fmt.Sprintf("%s-rotated-%d", rt[:min(len(rt), 12)], s.rotations)
			s.refreshTokens[c.refresh] = true
		}
	default:
		return 400, "unsupported_grant_type", ""
	}
	return 0, "", ""
}

// checkExchange checks an RFC 8693 token exchange: client authentication when required, a
// known subject token of type JWT, an access token requested, the audience when one is set.
func (s *authServer) checkExchange(c *authCall) (status int, code, desc string) {
	f := c.form
	switch {
	case s.client != [2]string{} && (!c.basic || c.id != s.client[0] || c.secret != s.client[1]):
		return 401, "invalid_client", "client authentication failed"
	case s.client == [2]string{} && c.basic:
		return 400, "invalid_request", "unexpected client authentication"
	case f.Get("subject_token_type") != "urn:ietf:params:oauth:token-type:jwt":
		return 400, "invalid_request", "unsupported subject_token_type"
	case f.Has("requested_token_type") && f.Get("requested_token_type") != "urn:ietf:params:oauth:token-type:access_token":
		return 400, "invalid_request", "unsupported requested_token_type"
	case s.aud != "" && f.Get("audience") != s.aud:
		return 400, "invalid_target", "unknown audience"
	case !s.subjects[f.Get("subject_token")]:
		return 400, "invalid_grant", "subject token not valid"
	}
	return 0, "", ""
}

// addRefreshToken makes the server accept rt, as when an operator gets a new one.
func (s *authServer) addRefreshToken(rt string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refreshTokens == nil {
		s.refreshTokens = map[string]bool{}
	}
	s.refreshTokens[rt] = true
}

// setSubjects sets the subject tokens a token exchange accepts.
func (s *authServer) setSubjects(tokens ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subjects = map[string]bool{}
	for _, t := range tokens {
		s.subjects[t] = true
	}
}

// verifyAssertion checks a JWT's signature with the keys of who (or of its iss when who is
// empty), its iss, aud, exp, iat and jti, and records its claims in c. It returns what is
// wrong, or "".
func (s *authServer) verifyAssertion(c *authCall, jws, who string) string {
	var lastErr error
	for i, pub := range s.keys[who] {
		header, claims, err := verifyJWT(jws, pub)
		if err == nil {
			c.header, c.claims, c.keyIndex = header, claims, i
			break
		}
		lastErr = err
	}
	if c.claims == nil {
		return fmt.Sprintf("signature not verified with the keys of %q: %v", who, lastErr)
	}
	aud := s.aud
	if aud == "" {
		aud = s.TokenURL()
	}
	now := float64(time.Now().Unix())
	exp, _ := c.claims["exp"].(float64)
	iat, _ := c.claims["iat"].(float64)
	jti, _ := c.claims["jti"].(string)
	switch {
	case c.claims["iss"] != who:
		return "iss is not " + who
	case c.claims["aud"] != aud:
		return fmt.Sprintf("aud %v, want %s", c.claims["aud"], aud)
	case exp < now:
		return "expired"
	case exp-iat > 300 || iat > now+5:
		return "exp more than 5 minutes after iat, or iat in the future"
	case len(jti) < 16:
		return "no jti, or a guessable one"
	case s.jtis[jti]:
		return "jti replayed"
	}
	s.jtis[jti] = true
	return ""
}

// unverifiedIssuer returns the iss of a JWT without checking it, to find the keys to check it
// with, as a server with many issuers does.
func unverifiedIssuer(jws string) string {
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var claims struct{ Iss string }
	if json.Unmarshal(payload, &claims) != nil {
		return ""
	}
	return claims.Iss
}

// postForm sends a token request by hand, as a client replaying a captured one would.
func postForm(t testing.TB, tokenURL string, form url.Values) (status int, body map[string]any) {
	t.Helper()
	res, err := http.Post(tokenURL, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, body
}
