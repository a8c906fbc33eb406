package filters_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

// testJWT returns an unsigned-looking JWT whose payload is claims.
func testJWT(claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256"}`)) + "." + enc([]byte(claims)) + ".c2ln"
}

func TestUnverifiedAuditLogThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	testBadArgs(t, filters.NewUnverifiedAuditLog(), []argsCase{
		{"two", []any{"sub", "azp"}, "unverifiedAuditLog: want 0 to 1 string arguments ([claim]), got 2"},
		{"number", []any{1.0}, "unverifiedAuditLog: argument 1 (claim) must be a string, got float64"},
	})
	backend := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`
		sub: Host("sub.test") -> unverifiedAuditLog() -> "http://%[1]s";
		azp: Host("azp.test") -> unverifiedAuditLog("azp") -> "http://%[1]s";`, backend.Addr()), proxytest.Options{})
	tests := []struct {
		name, host string
		header     []string
		want       []string
	}{
		{"sub", "sub.test", []string{"Authorization", "Bearer " + testJWT(`{"sub":"user@example.org","azp":"app-1"}`)}, []string{"user@example.org"}},
		{"other claim", "azp.test", []string{"Authorization", "Bearer " + testJWT(`{"sub":"u","azp":"app-1"}`)}, []string{"app-1"}},
		{"invalid characters", "sub.test", []string{"Authorization", "Bearer " + testJWT(`{"sub":"a b\r\nX-Evil: 1"}`)}, []string{"<invalid-sub>"}},
		{"no such claim", "azp.test", []string{"Authorization", "Bearer " + testJWT(`{"sub":"u"}`)}, nil},
		{"claim not a string", "sub.test", []string{"Authorization", "Bearer " + testJWT(`{"sub":42}`)}, nil},
		{"not bearer", "sub.test", []string{"Authorization", "Basic " + testJWT(`{"sub":"u"}`)}, nil},
		{"not a JWT", "sub.test", []string{"Authorization", "Bearer abc"}, nil},
		{"payload not JSON", "sub.test", []string{"Authorization", "Bearer a.bm90IGpzb24.c"}, nil},
		{"no signature", "sub.test", []string{"Authorization", "Bearer " + testJWT(`{"sub":"u"}`)[:len(testJWT(`{"sub":"u"}`))-4]}, nil},
		{"client's own header kept", "sub.test", []string{"X-Unverified-Audit", "claimed", "Authorization", "Bearer " + testJWT(`{"sub":"real"}`)}, []string{"claimed", "real"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, _ := p.Do(t, "GET", tc.host, "/", tc.header...)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("got %d, want 200", res.StatusCode)
			}
			checkHeader(t, backend.Last(t).Header, filters.UnverifiedAuditHeader, tc.want...)
		})
	}
}
