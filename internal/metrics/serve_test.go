package metrics

import (
	"fmt"
	"testing"
	"time"
)

// TestServeHostsBounded checks that the client-chosen Host cannot grow the host label without
// bound: past maxServeHosts distinct hosts, the rest count as OtherHost.
func TestServeHostsBounded(t *testing.T) {
	m := NewWithOptions(Options{ServeHostCounter: true})
	for i := range maxServeHosts + 5 {
		m.Served("r", fmt.Sprintf("h%d.example.org:80", i), "GET", 200, time.Millisecond)
	}
	s := scrapeMetrics(t, m)
	if v, ok := s.value("skipper_serve_host_count", "code", "200", "method", "GET", "host", "h0_example_org__80"); !ok || v != 1 {
		t.Errorf("first host: %v %v, want 1", v, ok)
	}
	if v, _ := s.value("skipper_serve_host_count", "code", "200", "method", "GET", "host", OtherHost); v != 5 {
		t.Errorf("%s: %v, want the 5 hosts past the bound", OtherHost, v)
	}
}

// TestServeRouteSeriesForgotten checks that RetainRoutes drops the serve series of removed
// routes, as it does the default ones.
func TestServeRouteSeriesForgotten(t *testing.T) {
	m := NewWithOptions(Options{ServeRoute: true, ServeRouteCounter: true})
	m.Served("old", "h", "GET", 200, time.Millisecond)
	m.Served("kept", "h", "GET", 200, time.Millisecond)
	m.RetainRoutes([]string{"kept"})
	s := scrapeMetrics(t, m)
	if _, ok := s.value("skipper_serve_route_count", "code", "200", "method", "GET", "route", "old"); ok {
		t.Error("the removed route's counter is still exposed")
	}
	if _, ok := s.value("skipper_serve_route_duration_seconds_count", "code", "200", "method", "GET", "route", "old"); ok {
		t.Error("the removed route's histogram is still exposed")
	}
	if v, _ := s.value("skipper_serve_route_count", "code", "200", "method", "GET", "route", "kept"); v != 1 {
		t.Errorf("kept route: %v, want 1", v)
	}
}
