package support_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/metrics"
	"github.com/skipper-egress/skipper/internal/support"
	"github.com/skipper-egress/skipper/routing"
	"github.com/skipper-egress/skipper/secrets"
)

const (
	canarySecret = "CANARY-SECRET-5e0b7d" // the value of every secret file: must never be served
	canaryToken  = "CANARY-TOKEN-91c4f2"  // the token endpoint's access token: likewise
)

// response is what a request to the support handler got.
type response struct {
	status int
	header http.Header
	body   string
}

// get sends a real request with method to path on srv.
func get(t *testing.T, srv *httptest.Server, method, path string) response {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return response{status: res.StatusCode, header: res.Header, body: string(body)}
}

// serve starts the support handler for opts on a loopback server.
func serve(t *testing.T, opts support.Options) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(support.New(opts))
	t.Cleanup(srv.Close)
	return srv
}

func TestEndpoints(t *testing.T) {
	m := metrics.New()
	m.RequestStarted()
	m.RequestDone("gh", "GET", 200, time.Millisecond)
	router := routing.NewRouter()
	router.Swap(compile(t, `r1: Path("/a") -> "https://a.example"; r2: * -> <shunt>;`, nil))
	var state support.State
	state.SetRoutesLoaded()
	srv := serve(t, support.Options{Metrics: m.Handler(), Router: router, Ready: state.Ready})

	for _, tc := range []struct {
		method, path string
		wantStatus   int
		wantBody     string // exact, unless wantContains is set
		wantContains string
	}{
		{"GET", "/healthz", 200, "ok\n", ""},
		{"GET", "/ready", 200, "ready\n", ""},
		{"GET", "/routes", 200, "r1: Path(\"/a\")\n  -> \"https://a.example\";\n\nr2: *\n  -> <shunt>;\n", ""},
		{"GET", "/routes?nopretty", 200, "r1: Path(\"/a\") -> \"https://a.example\";\nr2: * -> <shunt>;\n", ""},
		{"GET", "/routes?nopretty=1", 200, "r1: Path(\"/a\") -> \"https://a.example\";\nr2: * -> <shunt>;\n", ""},
		{"GET", "/routes?nopretty=false", 200, "r1: Path(\"/a\")\n  -> \"https://a.example\";\n\nr2: *\n  -> <shunt>;\n", ""},
		{"GET", "/metrics", 200, "", `skipper_requests_total{method="GET",route="gh",status="200"} 1`},
		{"HEAD", "/healthz", 200, "", ""},
		{"HEAD", "/routes", 200, "", ""},
		{"POST", "/healthz", 405, "", ""},
		{"PUT", "/routes", 405, "", ""},
		{"GET", "/", 404, "", ""},
		{"GET", "/metrics/", 404, "", ""},
		{"GET", "/debug/pprof/", 404, "", ""},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			res := get(t, srv, tc.method, tc.path)
			if res.status != tc.wantStatus {
				t.Fatalf("status: got %d, want %d; body %q", res.status, tc.wantStatus, res.body)
			}
			switch {
			case tc.wantContains != "":
				if !strings.Contains(res.body, tc.wantContains) {
					t.Errorf("body does not contain %q:\n%s", tc.wantContains, res.body)
				}
			case tc.wantStatus == 200:
				if res.body != tc.wantBody {
					t.Errorf("body: got %q, want %q", res.body, tc.wantBody)
				}
			}
			if tc.wantStatus == 405 && res.header.Get("Allow") == "" {
				t.Errorf("405 without an Allow header")
			}
			if tc.wantStatus == 200 && tc.path != "/metrics" {
				if got, want := res.header.Get("Content-Type"), "text/plain; charset=utf-8"; got != want {
					t.Errorf("Content-Type: got %q, want %q", got, want)
				}
			}
		})
	}
}

func TestUnsetOptions(t *testing.T) {
	srv := serve(t, support.Options{})
	for _, tc := range []struct {
		path string
		want int
	}{
		{"/metrics", 404},
		{"/routes", 404},
		{"/healthz", 200},
		{"/ready", 200}, // no readiness check: always ready
	} {
		t.Run(tc.path, func(t *testing.T) {
			if got := get(t, srv, "GET", tc.path).status; got != tc.want {
				t.Errorf("status: got %d, want %d", got, tc.want)
			}
		})
	}
}

func TestReadyTransitions(t *testing.T) {
	var state support.State
	srv := serve(t, support.Options{Ready: state.Ready})
	for _, step := range []struct {
		name        string
		do          func()
		wantReady   int
		wantHealthz int
	}{
		{"starting, no routes yet", func() {}, 503, 200},
		{"routes loaded", state.SetRoutesLoaded, 200, 200},
		{"routes loaded again", state.SetRoutesLoaded, 200, 200},
		{"draining", state.SetDraining, 503, 200},
		{"draining, routes reloaded", state.SetRoutesLoaded, 503, 200},
	} {
		t.Run(step.name, func(t *testing.T) {
			step.do()
			if got := get(t, srv, "GET", "/ready").status; got != step.wantReady {
				t.Errorf("/ready: got %d, want %d", got, step.wantReady)
			}
			if got := get(t, srv, "GET", "/healthz").status; got != step.wantHealthz {
				t.Errorf("/healthz: got %d, want %d", got, step.wantHealthz)
			}
		})
	}
	if !state.RoutesLoaded() || !state.Draining() {
		t.Errorf("flags: got RoutesLoaded %v, Draining %v, want both true", state.RoutesLoaded(), state.Draining())
	}
}

// TestRoutesShowNoSecret loads routes whose credential filters read secret files holding a
// canary value, and an OAuth2 route whose token endpoint issues a canary token; after both
// have been injected into a request, /routes must print the table and neither canary.
func TestRoutesShowNoSecret(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"github", "user", "pass", "client-id", "client-secret"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(canarySecret+name+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	store, err := secrets.NewStore(secrets.Options{Paths: []string{dir}, NoWatch: true})
	if err != nil {
		t.Fatalf("secrets.NewStore: %v", err)
	}
	tokens, err := filters.NewTokenManager(filters.TokenManagerOptions{Secrets: store})
	if err != nil {
		t.Fatalf("filters.NewTokenManager: %v", err)
	}
	tokenURL := tokenEndpoint(t)
	p := func(name string) string { return `"` + filepath.Join(dir, name) + `"` }
	src := `gh: Host("api.github.com") -> bearerinjector(` + p("github") + `) -> "https://api.github.com";
hdr: Host("x.example") -> setRequestHeaderFromSecret("X-Api-Key", ` + p("github") + `, "key ") -> "https://x.example";
basic: Path("/v1") -> basicAuthFromSecret(` + p("user") + `, ` + p("pass") + `) -> "https://api.stripe.com";
oa: Host("oa.example") -> oauth2ClientCredentials("` + tokenURL + `", ` + p("client-id") + `, ` + p("client-secret") + `) -> "https://oa.example";
lit: Host("lit.example") -> setRequestHeader("X-Route", "literal") -> "https://lit.example";`
	table := compile(t, src, filters.Builtins(filters.BuiltinsOptions{Secrets: store, Tokens: tokens}))
	router := routing.NewRouter()
	router.Swap(table)

	// Inject every credential once, so the secret values and the token are live in memory.
	for _, r := range table.Routes() {
		req := httptest.NewRequest(http.MethodGet, "https://example.org/", nil)
		for _, f := range r.Filters {
			if err := f.Request(req); err != nil {
				t.Fatalf("route %s: filter: %v", r.ID, err)
			}
		}
		if r.ID == "oa" && req.Header.Get("Authorization") != "Bearer "+canaryToken {
			t.Fatalf("route oa: the canary token was not injected")
		}
	}

	srv := serve(t, support.Options{Router: router})
	res := get(t, srv, "GET", "/routes")
	if res.status != 200 {
		t.Fatalf("status: got %d, want 200", res.status)
	}
	defs := make([]*routing.RouteDef, 0, table.Len())
	for _, r := range table.Routes() {
		defs = append(defs, r.Def)
	}
	if want := routing.PrintTable(defs, true); res.body != want {
		t.Errorf("body: got\n%s\nwant\n%s", res.body, want)
	}
	// Priority order: the route with a path comes first.
	if !strings.HasPrefix(res.body, "basic: ") {
		t.Errorf("body does not start with the Path route:\n%s", res.body)
	}
	if !strings.Contains(res.body, filepath.Join(dir, "github")) {
		t.Errorf("body does not name the secret path:\n%s", res.body)
	}
	for _, c := range []string{canarySecret, canaryToken} {
		if strings.Contains(res.body, c) {
			t.Errorf("/routes contains canary %q:\n%s", c, res.body)
		}
	}
	if back, err := routing.Parse("routes", res.body); err != nil || len(back) != len(defs) {
		t.Errorf("reading /routes back: got %d routes, error %v; want %d routes", len(back), err, len(defs))
	}
}

func TestRoutesFollowsSwaps(t *testing.T) {
	router := routing.NewRouter()
	srv := serve(t, support.Options{Router: router})
	for _, tc := range []struct {
		name, routes, want string
	}{
		{"empty table", "", ""},
		{"one route", `a: * -> <shunt>`, "a: * -> <shunt>;\n"},
		{"unnamed route", `* -> "https://u.example"`, "* -> \"https://u.example\"\n"},
		{"replaced", `b: Path("/b") -> <shunt>; c: * -> <shunt>`, "b: Path(\"/b\") -> <shunt>;\nc: * -> <shunt>;\n"},
		{"as Skipper prints", `d: Any() && Method("GET") && Host("^d[.]test$") -> <shunt>`,
			"d: Host(/^d[.]test$/) && Method(\"GET\") -> <shunt>;\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			router.Swap(compile(t, tc.routes, nil))
			if got := get(t, srv, "GET", "/routes?nopretty").body; got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// compile parses and compiles src with the given filter specs, failing on any error.
func compile(t *testing.T, src string, specs []filters.Spec) *routing.Table {
	t.Helper()
	defs, err := routing.Parse("test.eskip", src)
	if err != nil {
		t.Fatalf("parsing routes: %v", err)
	}
	reg, err := filters.NewRegistry(specs...)
	if err != nil {
		t.Fatal(err)
	}
	table, errs := routing.Compile(defs, routing.CompileOptions{Filters: reg})
	if len(errs) > 0 {
		t.Fatalf("compiling routes: %v", errs)
	}
	return table
}

// tokenEndpoint starts an OAuth2 token endpoint on loopback that issues canaryToken to every
// client, and returns its URL.
func tokenEndpoint(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{ //nolint:errcheck // the test fails on a bad token anyway
			"access_token": canaryToken, "token_type": "bearer", "expires_in": 3600,
		})
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/token"
}
