package metrics

import (
	"testing"
	"time"
)

// warm resolves the children the benchmarks use, as the first requests of a route would.
func warm(m *Metrics) {
	m.RequestStarted()
	m.RequestDone("gh", "GET", 200, time.Millisecond)
	m.BackendDone("gh", time.Millisecond)
	m.BackendError("gh", KindTimeout)
	m.Injection("gh", "bearerinjector", OutcomeInjected)
	m.InjectionFailed("bearerinjector", ReasonNotFound)
}

func BenchmarkRequest(b *testing.B) {
	m := New()
	warm(m)
	b.ReportAllocs()
	for b.Loop() {
		m.RequestStarted()
		m.BackendDone("gh", 3*time.Millisecond)
		m.RequestDone("gh", "GET", 200, 4*time.Millisecond)
	}
}

func BenchmarkRequestParallel(b *testing.B) {
	m := New()
	warm(m)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.RequestStarted()
			m.BackendDone("gh", 3*time.Millisecond)
			m.RequestDone("gh", "GET", 200, 4*time.Millisecond)
		}
	})
}

func BenchmarkRequestDone(b *testing.B) {
	m := New()
	warm(m)
	b.ReportAllocs()
	for b.Loop() {
		m.RequestDone("gh", "GET", 200, 4*time.Millisecond)
	}
}

func BenchmarkBackendDone(b *testing.B) {
	m := New()
	warm(m)
	b.ReportAllocs()
	for b.Loop() {
		m.BackendDone("gh", 3*time.Millisecond)
	}
}

func BenchmarkBackendError(b *testing.B) {
	m := New()
	warm(m)
	b.ReportAllocs()
	for b.Loop() {
		m.BackendError("gh", KindTimeout)
	}
}

func BenchmarkInjection(b *testing.B) {
	m := New()
	warm(m)
	b.ReportAllocs()
	for b.Loop() {
		m.Injection("gh", "bearerinjector", OutcomeInjected)
	}
}

func BenchmarkInjectionFailed(b *testing.B) {
	m := New()
	warm(m)
	b.ReportAllocs()
	for b.Loop() {
		m.InjectionFailed("bearerinjector", ReasonNotFound)
	}
}

// BenchmarkWithLabelValues is the cost the per-route cache avoids: resolving the request
// counter through client_golang on every request.
func BenchmarkWithLabelValues(b *testing.B) {
	m := New()
	warm(m)
	b.ReportAllocs()
	for b.Loop() {
		m.requests.WithLabelValues("gh", "GET", "200").Inc()
	}
}
