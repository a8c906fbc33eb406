package filters_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

func TestHeaderBase64ThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	testBadArgs(t, filters.NewHeaderBase64Specs()[2], []argsCase{
		{"none", nil, "decodeBase64RequestHeader: want 1 or 2 arguments (header name[, part]), got 0"},
		{"bad name", []any{"X A"}, `decodeBase64RequestHeader: argument 1 (header name) "X A" is not a valid header name`},
		{"string part", []any{"X-A", "1"}, "decodeBase64RequestHeader: argument 2 (part) must be a number, got string"},
	})
	b64 := base64.StdEncoding.EncodeToString
	backend := proxytest.NewBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Res-Plain", "Token abc")
		w.Header().Set("X-Res-Encoded", b64([]byte("hello")))
	})
	p := proxytest.New(t, fmt.Sprintf(`* -> decodeBase64RequestHeader("Authorization", 1) -> decodeBase64RequestHeader("X-Whole")
		-> decodeBase64RequestHeader("X-Bad") -> decodeBase64RequestHeader("X-Ctl") -> decodeBase64RequestHeader("X-Far", 5)
		-> decodeBase64RequestHeader("X-Neg", -1) -> encodeBase64RequestHeader("X-Enc")
		-> encodeBase64ResponseHeader("X-Res-Plain", 1) -> decodeBase64ResponseHeader("X-Res-Encoded")
		-> "http://%s"`, backend.Addr()), proxytest.Options{})
	res, _ := p.Do(t, "GET", "b.test", "/",
		"Authorization", "Basic   "+b64([]byte("user:pass")),
		"X-Whole", b64([]byte("whole value")),
		"X-Bad", "not base64!",
		"X-Ctl", b64([]byte("a\r\nX-Evil: 1")),
		"X-Far", "a b",
		"X-Neg", b64([]byte("n")),
		"X-Enc", "plain text")
	got := backend.Last(t).Header
	checkHeader(t, got, "Authorization", "Basic user:pass")
	checkHeader(t, got, "X-Whole", "whole value")
	checkHeader(t, got, "X-Bad", "not base64!")
	checkHeader(t, got, "X-Ctl", b64([]byte("a\r\nX-Evil: 1")))
	checkHeader(t, got, "X-Far", "a b")
	checkHeader(t, got, "X-Neg", b64([]byte("n")))
	checkHeader(t, got, "X-Enc", b64([]byte("plain text")))
	checkHeader(t, got, "X-Evil")
	checkHeader(t, res.Header, "X-Res-Plain", "Token "+b64([]byte("abc")))
	checkHeader(t, res.Header, "X-Res-Encoded", "hello")
}
