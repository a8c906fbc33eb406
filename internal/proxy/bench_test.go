package proxy_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/skipper-egress/skipper/internal/proxytest"
)

// BenchmarkProxyLoopback sends requests through the whole proxy, over loopback, to a backend
// that answers "ok": the demo route, end to end. Client, proxy and backend share the process,
// so ns/op is the cost of all three; compare it with BenchmarkDirectLoopback, the client and
// backend alone, and read the proxy's share from a CPU profile:
//
//	go test ./internal/proxy -run '^$' -bench Loopback -cpuprofile cpu.out
func BenchmarkProxyLoopback(b *testing.B) {
	dir := b.TempDir()
	tok := writeSecretTB(b, dir, "token", "benchmark-token")
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	defer backend.Close()
	p := proxytest.New(b, fmt.Sprintf(`Host("host1") -> bearerinjector(%q) -> "%s"`, tok, backend.URL),
		proxytest.Options{CredentialsPaths: []string{dir}})
	runLoopback(b, p.URL, "host1")
}

// BenchmarkDirectLoopback is BenchmarkProxyLoopback without the proxy: the baseline.
func BenchmarkDirectLoopback(b *testing.B) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	defer backend.Close()
	runLoopback(b, backend.URL, "host1")
}

func runLoopback(b *testing.B, url, host string) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}
	defer client.CloseIdleConnections()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("GET", url+"/foo", nil)
			req.Host = host
			res, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				b.Errorf("status %d", res.StatusCode)
				return
			}
		}
	})
}
