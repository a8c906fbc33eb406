package filters_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/filtertest"
	"github.com/skipper-egress/skipper/secrets"
)

// BenchmarkSigV4 measures what signing costs a request, through the filter (Egress, on a
// request carrying a client's placeholder signature, body buffered and hashed), against
// bearerinjector in the same run: go test -run '^$' -bench SigV4 ./filters/
func BenchmarkSigV4(b *testing.B) {
	b.Run("bearerinjector", func(b *testing.B) {
		benchmarkFilter(b, filters.NewBearerInjector(staticSource{secrets.Secret(token)}), "/s/tok")
	})
	src := filtertest.Secrets{"/s/id": "AKIDEXAMPLE", "/s/key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
	for _, size := range []struct {
		name string
		n    int
	}{{"0B", 0}, {"1KiB", 1 << 10}, {"1MiB", 1 << 20}} {
		b.Run("awsSigv4FromSecrets/"+size.name, func(b *testing.B) {
			f := filtertest.Create(b, filters.NewAWSSigV4FromSecrets(src, 0), "execute-api", "eu-central-1", "/s/id", "/s/key")
			e := f.(filters.EgressFilter)
			data := bytes.Repeat([]byte("x"), size.n)
			r := filtertest.Request(b, "PUT", "http://api.example.org/items/1?b=2&a=1",
				"Authorization", "AWS4-HMAC-SHA256 Credential=PLACEHOLDER/x", "Content-Type", "application/json")
			b.SetBytes(int64(size.n))
			b.ReportAllocs()
			for b.Loop() {
				r.Body, r.GetBody, r.ContentLength = nil, nil, int64(size.n)
				if size.n > 0 {
					r.Body = io.NopCloser(bytes.NewReader(data))
				}
				if err := e.Egress(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
