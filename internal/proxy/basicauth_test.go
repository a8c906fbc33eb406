package proxy_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/skipper-egress/skipper/internal/proxytest"
)

func basic(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

// TestBasicAuth runs Skipper's basicAuth through the proxy: only users of the htpasswd file
// with their password pass, each hash scheme Skipper accepts works, refusals get 401 with the
// realm and never reach the backend, and the client's credentials for the proxy are not
// forwarded.
func TestBasicAuth(t *testing.T) {
	bc, err := bcrypt.GenerateFromPassword([]byte("alice-pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "users.htpasswd")
	content := "# users\nalice:" + string(bc) + "\n\nbob:{SHA}xO2etOilyqtV8o1RvvnmkeBx7QI=\r\n" + // sha-pass
		"carol:$apr1$Xy7pQ2aZ$3JqnGzHNaI.OuznYBB0AA.\n" // apr-pass
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	backend := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`
		r: Host("api") -> basicAuth(%q, "My Site") -> "%[2]s";
		d: Host("default") -> basicAuth(%[1]q) -> "%[2]s";`, file, backend.URL), proxytest.Options{})

	for _, tc := range []struct {
		name   string
		header []string
		want   int
	}{
		{"bcrypt", []string{"Authorization", basic("alice", "alice-pw")}, 200},
		{"sha1", []string{"Authorization", basic("bob", "sha-pass")}, 200},
		{"md5", []string{"Authorization", basic("carol", "apr-pass")}, 200},
		{"scheme case", []string{"Authorization", "basic " + basic("bob", "sha-pass")[6:]}, 200},
		{"none", nil, 401},
		{"wrong password", []string{"Authorization", basic("alice", "alice-pw2")}, 401},
		{"another's password", []string{"Authorization", basic("alice", "sha-pass")}, 401},
		{"unknown user", []string{"Authorization", basic("dave", "sha-pass")}, 401},
		{"no colon", []string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte("bob"))}, 401},
		{"bearer", []string{"Authorization", "Bearer sha-pass"}, 401},
		{"two fields", []string{"Authorization", basic("bob", "sha-pass"), "Authorization", basic("dave", "x")}, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(backend.Received())
			res, _ := p.Do(t, "GET", "api", "/x", tc.header...)
			if res.StatusCode != tc.want {
				t.Fatalf("got %d, want %d", res.StatusCode, tc.want)
			}
			got := backend.Received()[before:]
			if tc.want != 200 {
				if c := res.Header.Get("WWW-Authenticate"); c != `Basic realm="My Site"` {
					t.Errorf("got WWW-Authenticate %q", c)
				}
				if len(got) != 0 {
					t.Errorf("the backend got a refused request")
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("backend got %d requests, want 1", len(got))
			}
			if a, ok := got[0].Header["Authorization"]; ok {
				t.Errorf("backend got the client's Authorization %q", a)
			}
		})
	}
	res, _ := p.Do(t, "GET", "default", "/")
	if c := res.Header.Get("WWW-Authenticate"); res.StatusCode != 401 || c != `Basic realm="Basic Realm"` {
		t.Errorf("default realm: got %d with WWW-Authenticate %q", res.StatusCode, c)
	}

	// The file is read again when it changes: bob is gone.
	if err := os.WriteFile(file, []byte("carol:$apr1$Xy7pQ2aZ$3JqnGzHNaI.OuznYBB0AA.\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if res, _ := p.Do(t, "GET", "api", "/", "Authorization", basic("bob", "sha-pass")); res.StatusCode != 401 {
		t.Errorf("removed user: got %d, want 401", res.StatusCode)
	}
	if res, _ := p.Do(t, "GET", "api", "/", "Authorization", basic("carol", "apr-pass")); res.StatusCode != 200 {
		t.Errorf("remaining user: got %d, want 200", res.StatusCode)
	}
	for _, pw := range []string{"alice-pw", "sha-pass", "apr-pass"} {
		if strings.Contains(p.Log(), pw) {
			t.Errorf("the log holds the password %q", pw)
		}
	}
}

// TestBasicAuthMissingFile checks that a route naming an htpasswd file that does not exist
// yet loads, refuses every request, and lets users in once the file appears; a file that
// exists but does not parse keeps its route from loading.
func TestBasicAuthMissingFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "later.htpasswd")
	backend := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`r: Host("api") -> basicAuth(%q) -> "%s"`, file, backend.URL), proxytest.Options{})
	if res, _ := p.Do(t, "GET", "api", "/", "Authorization", basic("bob", "sha-pass")); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without the file: got %d, want 401", res.StatusCode)
	}
	if err := os.WriteFile(file, []byte("bob:{SHA}xO2etOilyqtV8o1RvvnmkeBx7QI=\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if res, _ := p.Do(t, "GET", "api", "/", "Authorization", basic("bob", "sha-pass")); res.StatusCode != http.StatusOK {
		t.Fatalf("once the file is there: got %d, want 200", res.StatusCode)
	}
	if !strings.Contains(p.Log(), "htpasswd file missing") {
		t.Errorf("the missing file was not logged")
	}
	if len(backend.Received()) != 1 {
		t.Errorf("backend got %d requests, want 1", len(backend.Received()))
	}
}
