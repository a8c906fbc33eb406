// Command backend is the load test's upstream: the cheapest useful net/http server, answering
// every request with 200 "ok", so that the numbers measure the proxy in front of it. A request
// for /_authorization is answered with its Authorization header instead, which lets the load
// test check that the proxy injected the token before it starts, /_bytes/N answers N bytes
// (the tunnel scenario's bulk transfer), and /_stats the connections accepted and the requests
// served over HTTP/1.x and HTTP/2 so far ("conns=N h1=N h2=N", itself not counted as a request),
// which shows how a proxy reuses its backend connections. With -tls-cert and -tls-key it serves
// HTTPS, HTTP/1.1 and HTTP/2 alike, as any Go server does.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
)

const (
	authPath  = "/_authorization"
	bytesPath = "/_bytes/"
	statsPath = "/_stats"
	maxBytes  = 1 << 30
)

func main() {
	addr := flag.String("address", "127.0.0.1:8081", "address to listen on")
	cert := flag.String("tls-cert", "", "PEM certificate: serve HTTPS (HTTP/1.1 and HTTP/2) instead of HTTP")
	key := flag.String("tls-key", "", "PEM key of -tls-cert")
	flag.Parse()
	if (*cert == "") != (*key == "") {
		log.Fatal("-tls-cert and -tls-key go together")
	}
	ok := []byte("ok")
	chunk := make([]byte, 256<<10)
	var conns, h1, h2 atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		if r.URL.Path == statsPath {
			fmt.Fprintf(w, "conns=%d h1=%d h2=%d", conns.Load(), h1.Load(), h2.Load())
			return
		}
		if r.ProtoMajor == 2 {
			h2.Add(1)
		} else {
			h1.Add(1)
		}
		switch {
		case r.URL.Path == authPath:
			w.Write([]byte(r.Header.Get("Authorization")))
		case strings.HasPrefix(r.URL.Path, bytesPath):
			n, err := strconv.Atoi(r.URL.Path[len(bytesPath):])
			if err != nil || n < 0 || n > maxBytes {
				http.Error(w, "bad length", http.StatusBadRequest)
				return
			}
			writeBytes(w, chunk, n)
		default:
			w.Write(ok)
		}
	})
	srv := &http.Server{Addr: *addr, Handler: h, ConnState: func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}}
	if *cert != "" {
		log.Fatal(srv.ListenAndServeTLS(*cert, *key))
	}
	log.Fatal(srv.ListenAndServe())
}

// writeBytes answers n bytes with a Content-Length, written from chunk over and over.
func writeBytes(w http.ResponseWriter, chunk []byte, n int) {
	w.Header().Set("Content-Length", strconv.Itoa(n))
	for n > 0 {
		c := chunk[:min(n, len(chunk))]
		if _, err := w.Write(c); err != nil {
			return
		}
		n -= len(c)
	}
}
