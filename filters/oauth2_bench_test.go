package filters_test

import (
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/filtertest"
)

// cachedTokenFilter returns an oauth2ClientCredentials filter whose token is already cached.
func cachedTokenFilter(b testing.TB) filters.Filter {
	ep := newTokenEndpoint(b, token[:40], 3600)
	m, _ := newManager(b, filtertest.Secrets{"/s/id": "id", "/s/secret": "secret"}, filters.TokenManagerOptions{})
	f := filtertest.Create(b, filters.NewOAuth2ClientCredentials(m), ep.URL+"/token", "/s/id", "/s/secret", "read")
	if _, err := authorization(b, f); err != nil {
		b.Fatal(err)
	}
	return f
}

// BenchmarkOAuth2CachedToken measures the request path with a valid cached token.
func BenchmarkOAuth2CachedToken(b *testing.B) {
	f := cachedTokenFilter(b)
	r := filtertest.Request(b, "GET", "http://api.example.org/repos", "Authorization", "Bearer evil")
	b.ReportAllocs()
	for b.Loop() {
		if err := f.Request(r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOAuth2CachedTokenParallel(b *testing.B) {
	f := cachedTokenFilter(b)
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
