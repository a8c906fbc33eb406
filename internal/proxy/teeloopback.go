package proxy

import "net/http"

// serveTee serves r, the shadow copy a teeLoopback filter made, as a request of its own: it is
// routed, filtered, sent and logged as any, and its answer is dropped. It runs in the
// background, on the copy's own goroutine.
func (p *Proxy) serveTee(r *http.Request) {
	p.ServeHTTP(&discardResponse{header: make(http.Header)}, r)
}

// discardResponse is the http.ResponseWriter of a shadow copy: it takes the answer and keeps
// none of it.
type discardResponse struct{ header http.Header }

func (d *discardResponse) Header() http.Header         { return d.header }
func (d *discardResponse) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardResponse) WriteHeader(int)             {}

// Flush lets a streamed answer be copied as to a client.
func (d *discardResponse) Flush() {}
