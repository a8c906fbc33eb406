package filters_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/skipper-egress/skipper/internal/proxytest"
)

func TestAbsorbThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	backend := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`
		loud: Host("loud.test") -> absorb() -> "http://%[1]s";
		quiet: Host("quiet.test") -> absorbSilent() -> "http://%[1]s";`, backend.Addr()),
		proxytest.Options{})
	for _, host := range []string{"loud.test", "quiet.test"} {
		req, err := http.NewRequest("POST", p.URL+"/", strings.NewReader(strings.Repeat("x", 100000)))
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		req.Header.Set("X-Flow-Id", "flow-"+host)
		res, err := p.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 || res.ContentLength != 0 || res.Header.Get("Content-Type") != "" {
			t.Errorf("%s: got %d, Content-Length %d, Content-Type %q; want 200 and nothing", host, res.StatusCode, res.ContentLength, res.Header.Get("Content-Type"))
		}
	}
	if n := len(backend.Received()); n != 0 {
		t.Errorf("backend got %d requests, want none", n)
	}
	log := p.Log()
	if !strings.Contains(log, "request flow-loud.test, consumed bytes: 100000") {
		t.Errorf("log lacks the absorbed count:\n%s", log)
	}
	if strings.Contains(log, "flow-quiet.test") {
		t.Errorf("absorbSilent logged:\n%s", log)
	}
}
