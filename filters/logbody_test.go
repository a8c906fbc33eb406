package filters_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

func TestLogBodyBadArgs(t *testing.T) {
	testBadArgs(t, filters.NewLogBody(nil), []argsCase{
		{"one", []any{"request"}, `logBody: want 2 arguments ("request" or "response", limit), got 1`},
		{"other", []any{"both", 10.0}, `logBody: argument 1 must be "request" or "response", got "both"`},
		{"fraction", []any{"request", 1.5}, "logBody: argument 2 (limit) must be a whole number of bytes, got 1.5"},
		{"string limit", []any{"response", "10"}, `logBody: argument 2 (limit) must be a whole number of bytes, got "10"`},
	})
}

// TestLogBodyThroughProxy checks that logBody logs the start of each body while the backend
// and the client still get all of it, and that no header (so no injected credential) is
// logged.
func TestLogBodyThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	backend := proxytest.NewBackend(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "backend says hi")
	})
	p := proxytest.New(t, fmt.Sprintf(`
		lb: Host("lb.test") -> setRequestHeader("X-Api-Key", "route-injected-value")
			-> logBody("request", 10) -> logBody("response", 1000) -> "http://%s";`, backend.Addr()),
		proxytest.Options{})
	req, err := http.NewRequest("POST", p.URL+"/", strings.NewReader("hello request body"))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "lb.test"
	res, err := p.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(body) != "backend says hi" {
		t.Errorf("client got %q", body)
	}
	if got := string(backend.Last(t).Body); got != "hello request body" {
		t.Errorf("backend got body %q", got)
	}
	log := p.Log()
	for _, want := range []string{`logBody(\"request\"): \"hello requ\"`, `logBody(\"response\"): \"backend says hi\"`} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %s:\n%s", want, log)
		}
	}
	if strings.Contains(log, "hello request body") || strings.Contains(log, "route-injected-value") {
		t.Errorf("log holds more than asked:\n%s", log)
	}
}
