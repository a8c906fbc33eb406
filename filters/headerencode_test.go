package filters_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

func TestHeaderEncodeThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	spec := filters.NewHeaderEncodeSpecs()[0]
	testBadArgs(t, spec, []argsCase{
		{"one", []any{"X-A"}, "encodeRequestHeader: want 2 string arguments (header name, charset), got 1"},
		{"bad name", []any{"X A", "Windows1252"}, `encodeRequestHeader: argument 1 (header name) "X A" is not a valid header name`},
	})
	if _, err := spec.Create([]any{"X-A", "UTF-7"}); err == nil || !strings.Contains(err.Error(), `argument 2 (charset) "UTF-7" is not one of ISO8859_1, ISO8859_10,`) {
		t.Errorf("got %v, want the charsets named", err)
	}
	backend := proxytest.NewBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Res", "Ärger")
	})
	p := proxytest.New(t, fmt.Sprintf(`* -> encodeRequestHeader("X-Name", "Windows1252") -> encodeRequestHeader("X-Cyr", "KOI8R")
		-> encodeRequestHeader("X-Wide", "ISO8859_1") -> encodeResponseHeader("X-Res", "ISO8859_15") -> "http://%s"`,
		backend.Addr()), proxytest.Options{})
	res, _ := p.Do(t, "GET", "e.test", "/", "X-Name", "Müller €", "X-Cyr", "Ж", "X-Wide", "日本")
	got := backend.Last(t).Header
	checkHeader(t, got, "X-Name", "M\xfcller \x80")
	checkHeader(t, got, "X-Cyr", "\xf6")
	checkHeader(t, got, "X-Wide", "")
	checkHeader(t, res.Header, "X-Res", "\xc4rger")
}
