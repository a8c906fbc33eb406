package connlimit_test

import (
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/skipper-egress/skipper/internal/connlimit"
)

// BenchmarkKeepAliveRequests sends requests one after another on one keep-alive connection to
// an http.Server on loopback, with and without a Listener in front that follows every request
// through ConnState; the ratio is the limit's cost per request.
func BenchmarkKeepAliveRequests(b *testing.B) {
	for _, limited := range []bool{false, true} {
		name := "unlimited"
		if limited {
			name = "limited"
		}
		b.Run(name, func(b *testing.B) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })}
			served := ln
			if limited {
				l := connlimit.New(ln, connlimit.Options{MaxConcurrency: 16})
				srv.ConnState, served = l.ConnState, l
			}
			go srv.Serve(served)
			defer srv.Close()
			tr := &http.Transport{MaxIdleConnsPerHost: 1}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}
			url := "http://" + ln.Addr().String() + "/"
			b.ReportAllocs()
			for b.Loop() {
				res, err := client.Get(url)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
			}
		})
	}
}
