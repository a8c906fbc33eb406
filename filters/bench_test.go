package filters_test

import (
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/filtertest"
	"github.com/skipper-egress/skipper/secrets"
)

// staticSource returns one shared value for every name without allocating, as the real store
// does, so that benchmarks measure the filter alone.
type staticSource struct{ v secrets.Secret }

func (s staticSource) Get(string) (secrets.Secret, error) { return s.v, nil }

// token is the size of a typical API token (a GitHub fine-grained token is 93 bytes).
const token = "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ab"

func benchmarkFilter(b *testing.B, spec filters.Spec, args ...any) {
	f := filtertest.Create(b, spec, args...)
	r := filtertest.Request(b, "GET", "http://api.example.org/repos", "Authorization", "Bearer evil")
	b.ReportAllocs()
	for b.Loop() {
		if err := f.Request(r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBearerInjector(b *testing.B) {
	benchmarkFilter(b, filters.NewBearerInjector(staticSource{secrets.Secret(token)}), "/s/tok")
}

func BenchmarkBearerInjectorParallel(b *testing.B) {
	f := filtertest.Create(b, filters.NewBearerInjector(staticSource{secrets.Secret(token)}), "/s/tok")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		r := filtertest.Request(b, "GET", "http://api.example.org/repos")
		for pb.Next() {
			if err := f.Request(r); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkSetRequestHeaderFromSecret(b *testing.B) {
	benchmarkFilter(b, filters.NewSetRequestHeaderFromSecret(staticSource{secrets.Secret(token)}), "X-Api-Key", "/s/tok", "key=", ";")
}

func BenchmarkBasicAuthFromSecret(b *testing.B) {
	benchmarkFilter(b, filters.NewBasicAuthFromSecret(staticSource{secrets.Secret(token)}), "/s/u", "/s/p")
}

func BenchmarkSetRequestHeader(b *testing.B) {
	benchmarkFilter(b, filters.NewSetRequestHeader(), "X-Passed-Skipper", "true")
}

// BenchmarkBearerInjectorMissing measures the failure path, which builds the error.
func BenchmarkBearerInjectorMissing(b *testing.B) {
	f := filtertest.Create(b, filters.NewBearerInjector(filtertest.Secrets{}), "/s/tok")
	r := filtertest.Request(b, "GET", "http://api.example.org/repos", "Authorization", "Bearer evil")
	b.ReportAllocs()
	for b.Loop() {
		if err := f.Request(r); err == nil {
			b.Fatal("got no error, want one")
		}
	}
}
