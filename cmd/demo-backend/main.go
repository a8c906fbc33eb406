// Command demo-backend is the service behind the README's demo: it answers every request with
// the request as it arrived (request line and headers), and prints the same to its standard
// output, so that one can see what skipper added on the way.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"sort"
)

func main() {
	addr := flag.String("address", "127.0.0.1:8080", "address to listen on")
	flag.Parse()
	log.SetFlags(0)
	ln, err := listen(*addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("demo-backend: echoing requests on http://%s", ln.Addr())
	log.Fatal(http.Serve(ln, http.HandlerFunc(echo)))
}

// listen binds addr before anything says that the backend is up, and names the address when it
// cannot (the port taken by another process, most often).
func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("demo-backend: cannot listen on %s: %w", addr, err)
	}
	return ln, nil
}

// echo writes the request back as text: the request line, Host, the other headers sorted by name,
// and the body's length.
func echo(w http.ResponseWriter, r *http.Request) {
	n, _ := io.Copy(io.Discard, r.Body)
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s %s\nHost: %s\n", r.Method, r.RequestURI, r.Proto, r.Host)
	names := make([]string, 0, len(r.Header))
	for k := range r.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range r.Header[k] {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	if n > 0 {
		fmt.Fprintf(&b, "(body: %d bytes)\n", n)
	}
	b.WriteString("\n")
	os.Stdout.Write(b.Bytes())
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write(b.Bytes())
}
