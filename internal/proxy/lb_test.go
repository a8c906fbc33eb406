package proxy_test

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/skipper-egress/skipper/internal/proxytest"
)

// retryLog is logged once for each attempt that an endpoint refused and that is retried.
const retryLog = "endpoint refused the connection, retrying on another"

// deadAddr returns a loopback address that refuses connections: that of a closed listener.
func deadAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// lbRoute returns a route for host "lb" to a load balancer with algorithm over addrs.
func lbRoute(algorithm string, addrs ...string) string {
	eps := make([]string, len(addrs))
	for i, a := range addrs {
		eps[i] = fmt.Sprintf("%q", "http://"+a)
	}
	return fmt.Sprintf(`Host("lb") -> <%s, %s>`, algorithm, strings.Join(eps, ", "))
}

func newBackends(t *testing.T, n int) ([]*proxytest.Backend, []string) {
	backends := make([]*proxytest.Backend, n)
	addrs := make([]string, n)
	for i := range backends {
		backends[i] = proxytest.NewBackend(t, nil)
		addrs[i] = backends[i].Addr()
	}
	return backends, addrs
}

// sendN sends n GET requests for host "lb" and fails the test on any answer but 200.
func sendN(t *testing.T, p *proxytest.Proxy, n int) {
	t.Helper()
	for i := range n {
		if res, body := p.Do(t, "GET", "lb", "/x"); res.StatusCode != http.StatusOK {
			t.Fatalf("request %d: got %d %q, want 200", i, res.StatusCode, body)
		}
	}
}

func TestLBRoundRobinIsEven(t *testing.T) {
	backends, addrs := newBackends(t, 3)
	p := proxytest.New(t, lbRoute("roundRobin", addrs...), proxytest.Options{})
	sendN(t, p, 300)
	for i, b := range backends {
		got := b.Received()
		if len(got) != 100 {
			t.Errorf("backend %d: got %d requests, want 100", i, len(got))
			continue
		}
		if host := got[0].Host; host != addrs[i] {
			t.Errorf("backend %d: got Host %q, want %q", i, host, addrs[i])
		}
	}
}

func TestLBReachesEveryEndpoint(t *testing.T) {
	for _, algorithm := range []string{"random", "powerOfRandomNChoices"} {
		t.Run(algorithm, func(t *testing.T) {
			backends, addrs := newBackends(t, 3)
			p := proxytest.New(t, lbRoute(algorithm, addrs...), proxytest.Options{})
			sendN(t, p, 300)
			total := 0
			for i, b := range backends {
				n := len(b.Received())
				total += n
				if n == 0 {
					t.Errorf("backend %d: got no request, want some", i)
				}
			}
			if total != 300 {
				t.Errorf("got %d requests in all, want 300", total)
			}
		})
	}
}

func TestLBConsistentHashIsStable(t *testing.T) {
	backends, addrs := newBackends(t, 3)
	p := proxytest.New(t, lbRoute("consistentHash", addrs...), proxytest.Options{})
	sendN(t, p, 20)
	for i, b := range backends {
		if n := len(b.Received()); n != 0 && n != 20 {
			t.Errorf("backend %d: got %d requests, want all 20 or none", i, n)
		}
	}
}

func TestLBSkipsDeadEndpoint(t *testing.T) {
	for _, tc := range []struct {
		algorithm  string
		minRetries int // roundRobin starts with the first endpoint, the dead one
	}{
		{"roundRobin", 1},
		{"random", 0},
		{"consistentHash", 0},
		{"powerOfRandomNChoices", 0},
	} {
		t.Run(tc.algorithm, func(t *testing.T) {
			backends, addrs := newBackends(t, 2)
			p := proxytest.New(t, lbRoute(tc.algorithm, append([]string{deadAddr(t)}, addrs...)...), proxytest.Options{})
			sendN(t, p, 30)
			if n := len(backends[0].Received()) + len(backends[1].Received()); n != 30 {
				t.Errorf("got %d requests at the live backends, want 30", n)
			}
			// Once refused, the dead endpoint is skipped: at most one request is retried.
			if n := strings.Count(p.Log(), retryLog); n < tc.minRetries || n > 1 {
				t.Errorf("got %d retries, want %d or 1", n, tc.minRetries)
			}
			if tc.algorithm == "roundRobin" {
				// The dead endpoint's turns are shared, not handed to its neighbour.
				if n0, n1 := len(backends[0].Received()), len(backends[1].Received()); n0 != 15 || n1 != 15 {
					t.Errorf("got %d and %d requests, want 15 and 15", n0, n1)
				}
			}
		})
	}
}

func TestLBNeverRetriesSentBody(t *testing.T) {
	backends, addrs := newBackends(t, 1)
	p := proxytest.New(t, lbRoute("roundRobin", deadAddr(t), addrs[0]), proxytest.Options{})
	post := func() int {
		req, err := http.NewRequest("POST", p.URL+"/x", strings.NewReader("payload"))
		if err != nil {
			t.Fatal(err)
		}
		req.Host = "lb"
		res, err := p.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	// The first attempt goes to the dead endpoint; the body cannot be sent again.
	if got := post(); got != http.StatusBadGateway {
		t.Errorf("first POST: got %d, want 502", got)
	}
	if n := len(backends[0].Received()); n != 0 {
		t.Errorf("got %d requests at the live backend, want 0", n)
	}
	// The dead endpoint is now skipped.
	if got := post(); got != http.StatusOK {
		t.Errorf("second POST: got %d, want 200", got)
	}
	if got := backends[0].Last(t).Body; string(got) != "payload" {
		t.Errorf("got body %q, want %q", got, "payload")
	}
}

func TestLBAllEndpointsDead(t *testing.T) {
	p := proxytest.New(t, lbRoute("roundRobin", deadAddr(t), deadAddr(t)), proxytest.Options{})
	for i := range 3 {
		if res, _ := p.Do(t, "GET", "lb", "/x"); res.StatusCode != http.StatusBadGateway {
			t.Errorf("request %d: got %d, want 502", i, res.StatusCode)
		}
	}
}

func TestLBConsistentHashKey(t *testing.T) {
	backends, addrs := newBackends(t, 3)
	p := proxytest.New(t, `Host("lb") -> consistentHashKey("${request.header.X-Tenant}") -> `+
		strings.TrimPrefix(lbRoute("consistentHash", addrs...), `Host("lb") -> `), proxytest.Options{})
	for range 5 {
		for tenant := range 30 {
			if res, _ := p.Do(t, "GET", "lb", "/x", "X-Tenant", fmt.Sprint("t", tenant)); res.StatusCode != http.StatusOK {
				t.Fatalf("got %d, want 200", res.StatusCode)
			}
		}
	}
	where := map[string]int{} // tenant -> backend
	used := 0
	for i, b := range backends {
		got := b.Received()
		if len(got) > 0 {
			used++
		}
		for _, r := range got {
			tenant := r.Header.Get("X-Tenant")
			if prev, ok := where[tenant]; ok && prev != i {
				t.Errorf("tenant %s: got backends %d and %d, want one", tenant, prev, i)
			}
			where[tenant] = i
		}
	}
	if used < 2 {
		t.Errorf("got %d backends used by 30 tenants, want at least 2", used)
	}
}
