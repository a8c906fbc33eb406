package filters_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

func TestRandomContentBadArgs(t *testing.T) {
	testBadArgs(t, filters.NewRandomContent(), []argsCase{
		{"none", nil, "randomContent: want 1 argument (length), got 0"},
		{"negative", []any{-1.0}, "randomContent: argument 1 (length) must be a number of bytes, got -1"},
		{"string", []any{"10"}, `randomContent: argument 1 (length) must be a number of bytes, got "10"`},
	})
}

func TestRandomContentThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	backend := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`r: * -> randomContent(70000) -> "http://%s";`, backend.Addr()), proxytest.Options{})
	res, a := p.Do(t, "GET", "r.test", "/")
	_, b := p.Do(t, "GET", "r.test", "/")
	if res.StatusCode != 200 || len(a) != 70000 || res.ContentLength != 70000 || res.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("got %d, %d bytes, Content-Length %d, Content-Type %q", res.StatusCode, len(a), res.ContentLength, res.Header.Get("Content-Type"))
	}
	if strings.Trim(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") != "" {
		t.Errorf("body holds other bytes than letters and digits")
	}
	if a == b {
		t.Errorf("two answers are the same text")
	}
	if n := len(backend.Received()); n != 0 {
		t.Errorf("backend got %d requests, want none", n)
	}
}
