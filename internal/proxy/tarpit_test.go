package proxy_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/filtertest"
	"github.com/skipper-egress/skipper/internal/poll"
	"github.com/skipper-egress/skipper/internal/proxytest"
	"github.com/skipper-egress/skipper/routing"
)

// TestTarpitDripsUntilClientLeaves: tarpit answers 200 without calling the backend and sends
// one space per interval, each reaching the client as it is written (a buffered answer would
// show none of the first bytes); when the client goes away, the handler returns, which the
// access log line of the request, written as the handler ends, shows.
func TestTarpitDripsUntilClientLeaves(t *testing.T) {
	backend := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`r: Host("^tar$") -> tarpit("50ms") -> "%s"`, backend.URL), proxytest.Options{})
	// The bound only turns a hang into a failure: unflushed, the spaces would wait for 4 KiB of
	// them (200s) in the server's buffer; flushed, the first two come after 100ms.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", p.URL+"/tarpit-gone", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "tar"
	res, err := p.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("got status %d, want 200", res.StatusCode)
	}
	got := make([]byte, 2)
	if _, err := io.ReadFull(res.Body, got); err != nil {
		t.Fatalf("reading the first bytes: %v", err)
	}
	if string(got) != "  " {
		t.Errorf("got body %q, want spaces", got)
	}
	if strings.Contains(p.Log(), "/tarpit-gone") {
		t.Fatal("the request was logged as finished while it was still being answered")
	}
	cancel()
	poll.Until(t, 10*time.Second, "the tarpitted request's handler to return", func() bool {
		return strings.Contains(p.Log(), "/tarpit-gone")
	})
	if n := len(backend.Received()); n != 0 {
		t.Errorf("backend called %d times, want 0", n)
	}
}

// TestTarpitArguments: the interval is one positive duration string.
func TestTarpitArguments(t *testing.T) {
	reg, err := filters.NewRegistry(filters.Builtins(filters.BuiltinsOptions{Secrets: filtertest.Secrets{}})...)
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range []string{``, `"0s"`, `"-1s"`, `"soon"`, `5`, `"1s", "1s"`, `"1s"`} {
		defs, err := routing.Parse("r.eskip", fmt.Sprintf(`r: * -> tarpit(%s) -> <shunt>`, args))
		if err != nil {
			t.Fatal(err)
		}
		_, errs := routing.Compile(defs, routing.CompileOptions{Filters: reg})
		// Skipper loads any duration, zero and negative ones too.
		if want := args == `"1s"` || args == `"0s"` || args == `"-1s"`; (len(errs) == 0) != want {
			t.Errorf("tarpit(%s): got errors %v, want loaded: %v", args, errs, want)
		}
	}
}
