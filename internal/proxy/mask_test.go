package proxy_test

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/circuit"
	"github.com/skipper-egress/skipper/filters/filtertest"
	"github.com/skipper-egress/skipper/internal/proxy"
	"github.com/skipper-egress/skipper/internal/proxytest"
	"github.com/skipper-egress/skipper/routing"
)

// echoHeaders is a /headers-style backend: it answers the request's header fields as JSON,
// chunked, flushing in the middle of the Authorization value so that the secret is split
// across two chunks, and echoes that value in a header field too.
func echoHeaders(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	w.Header().Set("X-Echo", auth)
	w.Header().Set("Content-Type", "application/json")
	body := fmt.Sprintf(`{"headers": {"Authorization": %q, "Accept-Encoding": %q}}`, auth, r.Header.Get("Accept-Encoding"))
	half := strings.Index(body, auth) + len(auth)/2
	io.WriteString(w, body[:half])
	w.(http.Flusher).Flush()
	io.WriteString(w, body[half:])
}

// TestMaskEchoedCredentials checks that a backend echoing the injected credential, in a header
// field and in a chunked body that splits it, hands the client only stars of the same length,
// for a bearer token and for Basic credentials in their encoded form and the password; and
// that without -mask-echoed-credentials the echo passes as before.
func TestMaskEchoedCredentials(t *testing.T) {
	dir := t.TempDir()
	tok := writeSecret(t, dir, "token", canary+"-bearer")
	user := writeSecret(t, dir, "user", "alice")
	pw := writeSecret(t, dir, "pw", canary+"-pw")
	backend := httptest.NewServer(http.HandlerFunc(echoHeaders))
	t.Cleanup(backend.Close)
	routes := fmt.Sprintf(`
		bearer: Host("bearer.test") -> bearerinjector(%q) -> "%s";
		basic: Host("basic.test") -> basicAuthFromSecret(%q, %q) -> "%s";`, tok, backend.URL, user, pw, backend.URL)
	encoded := base64.StdEncoding.EncodeToString([]byte("alice:" + canary + "-pw"))
	for _, on := range []bool{true, false} {
		p := proxytest.New(t, routes, proxytest.Options{CredentialsPaths: []string{dir}, MaskEchoedCredentials: on})
		for _, tc := range []struct{ host, sent string }{
			{"bearer.test", "Bearer " + canary + "-bearer"},
			{"basic.test", "Basic " + encoded},
		} {
			t.Run(fmt.Sprintf("%s/mask=%v", tc.host, on), func(t *testing.T) {
				res, body := p.Do(t, "GET", tc.host, "/headers", "Accept-Encoding", "gzip")
				want := fmt.Sprintf(`{"headers": {"Authorization": %q, "Accept-Encoding": "identity"}}`, tc.sent)
				echo := tc.sent
				if on {
					want = strings.ReplaceAll(want, tc.sent[strings.IndexByte(tc.sent, ' ')+1:], strings.Repeat("*", len(tc.sent)-strings.IndexByte(tc.sent, ' ')-1))
					echo = want[strings.Index(want, `"Authorization": "`)+len(`"Authorization": "`) : strings.Index(want, `", "Accept`)]
				} else {
					want = strings.Replace(want, `"identity"`, `"gzip"`, 1)
				}
				if res.StatusCode != http.StatusOK || body != want {
					t.Errorf("got %d\n\t%s\nwant\n\t%s", res.StatusCode, body, want)
				}
				if got := res.Header.Get("X-Echo"); got != echo {
					t.Errorf("got X-Echo %q, want %q", got, echo)
				}
				if on && (strings.Contains(body, canary) || strings.Contains(res.Header.Get("X-Echo"), canary)) {
					t.Errorf("the secret reached the client: %s", body)
				}
			})
		}
		checkNoCanary(t, p)
	}
}

// TestMaskRefusesCompressed checks that a backend which compresses although asked for identity
// gets its response refused with 502 on a route that injected a credential, while a
// compressed response on a route without a credential passes untouched.
func TestMaskRefusesCompressed(t *testing.T) {
	tok := writeSecret(t, t.TempDir(), "token", canary)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		io.WriteString(zw, r.Header.Get("Authorization"))
		zw.Close()
	}))
	t.Cleanup(backend.Close)
	p := proxytest.New(t, fmt.Sprintf(`
		cred: Host("cred.test") -> bearerinjector(%q) -> "%s";
		plain: Host("plain.test") -> "%s";`, tok, backend.URL, backend.URL),
		proxytest.Options{CredentialsPaths: []string{tok}, MaskEchoedCredentials: true})
	if res, body := p.Do(t, "GET", "cred.test", "/"); res.StatusCode != http.StatusBadGateway || strings.Contains(body, canary) {
		t.Errorf("credential route: got %d %q, want 502", res.StatusCode, body)
	}
	if res, _ := p.Do(t, "GET", "plain.test", "/", "Accept-Encoding", "gzip"); res.StatusCode != http.StatusOK ||
		res.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("plain route: got %d %q, want 200 gzip", res.StatusCode, res.Header.Get("Content-Encoding"))
	}
	if !strings.Contains(p.Log(), "compressed response on a route that injected a credential") {
		t.Errorf("the refusal is not logged:\n%s", p.Log())
	}
	checkNoCanary(t, p)
}

// BenchmarkMaskEchoed is the cost of -mask-echoed-credentials: ServeHTTP on a route that
// injects a bearer token, with a backend answering at once with a body of the given size that
// does not hold the token, with masking off and on.
//
//	go test ./internal/proxy -run '^$' -bench MaskEchoed -benchmem -count 6
func BenchmarkMaskEchoed(b *testing.B) {
	for _, size := range []int{1 << 10, 1 << 20} {
		body := bytes.Repeat([]byte(`{"key": "value", "n": 12345}`+"\n"), size/29+1)[:size]
		for _, on := range []bool{false, true} {
			b.Run(fmt.Sprintf("%dKiB/mask=%v", size>>10, on), func(b *testing.B) {
				p := maskBenchProxy(b, body, on)
				r := httptest.NewRequest("GET", "http://h.test/data", nil)
				w := &discardWriter{h: make(http.Header)}
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					clear(w.h)
					w.code = 0
					p.ServeHTTP(w, r)
					if w.code != http.StatusOK {
						b.Fatalf("status %d", w.code)
					}
				}
			})
		}
	}
}

func maskBenchProxy(b *testing.B, body []byte, mask bool) *proxy.Proxy {
	b.Helper()
	src := filtertest.Secrets{"/s/tok": "sk-live-0123456789abcdefghijklmnopqrstuv"}
	reg, err := filters.NewRegistry(filters.Builtins(filters.BuiltinsOptions{Secrets: src})...)
	if err != nil {
		b.Fatal(err)
	}
	defs, err := routing.Parse("bench", `r: Host("h.test") -> bearerinjector("/s/tok") -> "http://backend.test"`)
	if err != nil {
		b.Fatal(err)
	}
	table, errs := routing.Compile(defs, routing.CompileOptions{Filters: reg})
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	router := routing.NewRouter()
	router.Swap(table)
	return proxy.New(proxy.Options{
		Router:                router,
		Transport:             answerBody(body),
		Breakers:              circuit.NewRegistry(circuit.Options{}),
		MaskEchoedCredentials: mask,
	})
}

// answerBody is a transport whose backend answers every request 200 with the body at once.
type answerBody []byte

func (a answerBody) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: http.StatusOK, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/json"}, "Content-Length": {strconv.Itoa(len(a))}},
		Body:          io.NopCloser(bytes.NewReader(a)),
		ContentLength: int64(len(a)),
		Request:       r,
	}, nil
}
