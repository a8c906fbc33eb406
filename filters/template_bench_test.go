package filters_test

import (
	"testing"

	"github.com/skipper-egress/skipper/filters"
)

// BenchmarkSetRequestHeaderPlaceholder expands one placeholder between literal text.
func BenchmarkSetRequestHeaderPlaceholder(b *testing.B) {
	benchmarkFilter(b, filters.NewSetRequestHeader(), "X-Team", "team-${request.header.Authorization}")
}

// BenchmarkSetRequestHeaderLonePlaceholder expands a value that is one placeholder, which
// needs no copy.
func BenchmarkSetRequestHeaderLonePlaceholder(b *testing.B) {
	benchmarkFilter(b, filters.NewSetRequestHeader(), "X-Copy", "${request.header.Authorization}")
}

// BenchmarkSetRequestHeaderPlaceholders expands several placeholders of different sources.
func BenchmarkSetRequestHeaderPlaceholders(b *testing.B) {
	benchmarkFilter(b, filters.NewSetRequestHeader(), "X-Req",
		"${request.method} ${request.host}${request.path} auth=${request.header.Authorization}")
}
