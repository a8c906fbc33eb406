// Command backend is the load test's upstream: the cheapest useful net/http server, answering
// every request with 200 "ok", so that the numbers measure the proxy in front of it. A request
// for /_authorization is answered with its Authorization header instead, which lets the load
// test check that the proxy injected the token before it starts.
package main

import (
	"flag"
	"log"
	"net/http"
)

const authPath = "/_authorization"

func main() {
	addr := flag.String("address", "127.0.0.1:8081", "address to listen on")
	flag.Parse()
	ok := []byte("ok")
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		if r.URL.Path == authPath {
			w.Write([]byte(r.Header.Get("Authorization")))
			return
		}
		w.Write(ok)
	})
	log.Fatal(http.ListenAndServe(*addr, h))
}
