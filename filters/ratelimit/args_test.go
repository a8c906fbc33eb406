package ratelimit_test

import (
	"math"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/filters/ratelimit"
)

func TestParseLimit(t *testing.T) {
	tests := []struct {
		arg     any
		want    int
		wantErr bool
	}{
		{float64(100), 100, false},
		{float64(0), 0, false},
		{7, 7, false},
		{2.5, 0, true},
		{float64(-1), 0, true},
		{float64(1 << 31), 0, true},
		{math.NaN(), 0, true},
		{"10", 0, true},
		{nil, 0, true},
	}
	for _, tc := range tests {
		got, err := ratelimit.ParseLimit(tc.arg)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("ParseLimit(%#v): got %d, %v; want %d, error: %v", tc.arg, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestParsePeriod(t *testing.T) {
	tests := []struct {
		arg     any
		want    time.Duration
		wantErr bool
	}{
		{"1s", time.Second, false},
		{"1m", time.Minute, false},
		{"1m30s", 90 * time.Second, false},
		{"250ms", 250 * time.Millisecond, false},
		{float64(60), time.Minute, false},
		{0.5, 500 * time.Millisecond, false},
		{3, 3 * time.Second, false},
		{"1", 0, true}, // a string needs a unit, as in time.ParseDuration
		{"0s", 0, true},
		{"-1s", 0, true},
		{"999us", 0, true},
		{"soon", 0, true},
		{float64(0), 0, true},
		{float64(-5), 0, true},
		{math.NaN(), 0, true},
		{math.Inf(1), 0, true},
		{1e12, 0, true},
		{-1, 0, true},
		{true, 0, true},
	}
	for _, tc := range tests {
		got, err := ratelimit.ParsePeriod(tc.arg)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("ParsePeriod(%#v): got %v, %v; want %v, error: %v", tc.arg, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestParseHeaders(t *testing.T) {
	tests := []struct {
		arg     string
		want    []string
		wantErr bool
	}{
		{"Authorization", []string{"Authorization"}, false},
		{"x-foo, authorization,X-Bar", []string{"X-Foo", "Authorization", "X-Bar"}, false},
		{"x-forwarded-for", []string{ratelimit.HeaderXForwardedFor}, false},
		{"", nil, true},
		{"X-Foo,,X-Bar", nil, true},
		{"X Foo", nil, true},
	}
	for _, tc := range tests {
		got, err := ratelimit.ParseHeaders(tc.arg)
		if !slices.Equal(got, tc.want) || (err != nil) != tc.wantErr {
			t.Errorf("ParseHeaders(%q): got %q, %v; want %q, error: %v", tc.arg, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestClientKey(t *testing.T) {
	tests := []struct {
		name    string
		remote  string
		header  map[string]string
		headers []string
		want    string
	}{
		{"remote address", "192.0.2.1:5555", nil, nil, "192.0.2.1"},
		{"remote IPv6 address", "[2001:db8::1]:5555", nil, nil, "2001:db8::1"},
		{"first X-Forwarded-For entry", "192.0.2.1:5555",
			map[string]string{"X-Forwarded-For": " 198.51.100.7 , 10.0.0.1"}, nil, "198.51.100.7"},
		{"X-Forwarded-For that is no address", "192.0.2.1:5555",
			map[string]string{"X-Forwarded-For": "unknown, 10.0.0.1"}, nil, "192.0.2.1"},
		{"named header", "192.0.2.1:5555",
			map[string]string{"Authorization": "Bearer abc"}, []string{"Authorization"}, "Bearer abc"},
		{"named header missing", "192.0.2.1:5555", nil, []string{"Authorization"}, ""},
		{"X-Forwarded-For by name is the client address", "192.0.2.1:5555",
			map[string]string{"X-Forwarded-For": "198.51.100.7, 10.0.0.1"},
			[]string{ratelimit.HeaderXForwardedFor}, "198.51.100.7"},
		{"several headers", "192.0.2.1:5555",
			map[string]string{"X-Foo": "a", "X-Bar": "b"}, []string{"X-Foo", "X-Bar"}, "a\x00b"},
		{"several headers, one missing", "192.0.2.1:5555",
			map[string]string{"X-Bar": "b"}, []string{"X-Foo", "X-Bar"}, "\x00b"},
		{"several headers, all missing", "192.0.2.1:5555", nil, []string{"X-Foo", "X-Bar"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "http://example.test/", nil)
			r.RemoteAddr = tc.remote
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			if got := ratelimit.ClientKey(r, tc.headers); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want int
	}{
		{time.Microsecond, 1},
		{time.Second, 1},
		{time.Second + time.Nanosecond, 2},
		{59*time.Second + 500*time.Millisecond, 60},
		{0, 1},
		{-time.Second, 1},
	}
	for _, tc := range tests {
		if got := ratelimit.RetryAfterSeconds(tc.in); got != tc.want {
			t.Errorf("RetryAfterSeconds(%v): got %d, want %d", tc.in, got, tc.want)
		}
	}
}
