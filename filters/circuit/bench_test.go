package circuit_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/filters/circuit"
)

// BenchmarkBreakerAllow measures the breaker on the request path: Allow and Done on a closed
// breaker, with and without the registry lookup a proxy makes per request, and the refusal of
// an open one.
func BenchmarkBreakerAllow(b *testing.B) {
	consecutive := circuit.Settings{Type: circuit.ConsecutiveFailures, Failures: 5}
	rate := circuit.Settings{Type: circuit.FailureRate, Failures: 50, Window: 500}
	for _, bc := range []struct {
		name   string
		s      circuit.Settings
		lookup bool
	}{
		{"consecutive", consecutive, false},
		{"rate", rate, false},
		{"consecutive with registry lookup", consecutive, true},
	} {
		reg := circuit.NewRegistry(circuit.Options{})
		run := func() {
			br := reg.Get("backend.test", bc.s)
			ticket, _ := br.Allow()
			ticket.Done(true)
		}
		if !bc.lookup {
			br := reg.Get("backend.test", bc.s)
			run = func() {
				ticket, _ := br.Allow()
				ticket.Done(true)
			}
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				run()
			}
		})
		b.Run(bc.name+" parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					run()
				}
			})
		})
	}
	b.Run("host default by name without port, parallel", func(b *testing.B) {
		reg := circuit.NewRegistry(circuit.Options{
			Defaults:     consecutive,
			HostDefaults: map[string]circuit.Settings{"backend.test": {Failures: 3}, "other.test": rate},
		})
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				ticket, _ := reg.Get("backend.test:443", circuit.Settings{}).Allow()
				ticket.Done(true)
			}
		})
	})
	b.Run("open, refused parallel", func(b *testing.B) {
		reg := circuit.NewRegistry(circuit.Options{})
		br := reg.Get("backend.test", circuit.Settings{Type: circuit.ConsecutiveFailures, Failures: 1, Timeout: time.Hour})
		ticket, _ := br.Allow()
		ticket.Done(false)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				br.Allow()
			}
		})
	})
}

// BenchmarkRegistryNewHosts measures creating default breakers for hosts never seen before, as a
// forward proxy reaching many hosts does: the time per host should not grow with their number.
func BenchmarkRegistryNewHosts(b *testing.B) {
	for _, n := range []int{1000, 8000} {
		hosts := make([]string, n)
		for i := range hosts {
			hosts[i] = "host" + strconv.Itoa(i) + ".test:443"
		}
		b.Run("hosts="+strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				reg := circuit.NewRegistry(circuit.Options{Defaults: circuit.Settings{Type: circuit.ConsecutiveFailures, Failures: 5}})
				for _, h := range hosts {
					reg.Get(h, circuit.Settings{})
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/host")
		})
	}
}
