package proxy

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/skipper-egress/skipper/routing"
)

func testBalancer(t *testing.T, algorithm string, n int) *balancer {
	t.Helper()
	b := routing.Backend{Type: routing.BackendLB, Algorithm: algorithm}
	for i := range n {
		b.Endpoints = append(b.Endpoints, &url.URL{Scheme: "http", Host: fmt.Sprintf("10.0.0.%d:80", i+1)})
	}
	return newBalancer(&b)
}

func TestConsistentHashSpreadsAndKeepsKeys(t *testing.T) {
	lb := testBalancer(t, routing.AlgorithmConsistentHash, 3)
	const clients = 3000
	before := make([]int, clients)
	counts := make([]int, 3)
	for c := range clients {
		before[c] = lb.pick(fmt.Sprintf("192.0.%d.%d", c/256, c%256), make([]bool, 3), 0)
		counts[before[c]]++
	}
	for i, n := range counts {
		if n < clients/6 {
			t.Errorf("endpoint %d: got %d of %d keys, want at least %d", i, n, clients, clients/6)
		}
	}
	// Endpoint 0 refuses: only its keys move.
	lb.endpoints[0].deadAt.Store(1)
	for c := range clients {
		got := lb.pick(fmt.Sprintf("192.0.%d.%d", c/256, c%256), make([]bool, 3), 2)
		if got == 0 {
			t.Fatalf("client %d: got the dead endpoint, want another", c)
		}
		if before[c] != 0 && got != before[c] {
			t.Errorf("client %d: moved from endpoint %d to %d, want it kept", c, before[c], got)
		}
	}
}

func TestPickSkipsTriedAndDead(t *testing.T) {
	tests := []struct {
		name  string
		dead  []bool
		tried []bool
		want  []int // acceptable picks
	}{
		{"all up", []bool{false, false, false}, []bool{true, false, true}, []int{1}},
		{"dead skipped", []bool{true, false, true}, []bool{false, false, false}, []int{1}},
		{"all dead: try anyway", []bool{true, true, true}, []bool{true, false, false}, []int{1, 2}},
		{"dead untried, live tried", []bool{true, false, false}, []bool{false, true, true}, []int{0}},
		{"all tried", []bool{false, false, false}, []bool{true, true, true}, []int{-1}},
	}
	algorithms := []string{routing.AlgorithmRoundRobin, routing.AlgorithmRandom,
		routing.AlgorithmConsistentHash, routing.AlgorithmPowerOfRandomNChoices}
	for _, tc := range tests {
		for _, a := range algorithms {
			t.Run(tc.name+"/"+a, func(t *testing.T) {
				lb := testBalancer(t, a, 3)
				now := int64(deadFor) * 2
				for i, d := range tc.dead {
					if d {
						lb.endpoints[i].deadAt.Store(now - 1)
					}
				}
				for range 20 {
					got := lb.pick("192.0.2.1", tc.tried, now)
					ok := false
					for _, w := range tc.want {
						ok = ok || got == w
					}
					if !ok {
						t.Fatalf("got %d, want one of %v", got, tc.want)
					}
				}
			})
		}
	}
}
