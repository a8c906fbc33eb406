package proxy

import (
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/routing"
)

// statusClientClosed is recorded, for the access log only, when the client went away before an
// answer could be sent. nginx made 499 the customary code for it.
const statusClientClosed = 499

// errWriteClient wraps failures to write to the client, so that they can be told apart from
// failures to read from the backend.
var errWriteClient = errors.New("writing to client")

// responseRecorder remembers the status and byte count of a response for the access log.
type responseRecorder struct {
	http.ResponseWriter
	status  int
	written int64

	// table is the route table the request was matched against; <loopback> routes match it
	// again there, so that a reload in between cannot send one request through two tables.
	table *routing.Table
	// outer are the <loopback> routes the request came through, outermost first: their
	// response filters also see the answer, after those of the route that made it.
	outer []*routing.Route
	// exchange is the Exchange of the last route the request was served by; its access log
	// switch decides whether the request is logged.
	exchange *filters.Exchange

	// proxyUser is the forward-proxy user the request authenticated as, for the access and
	// audit logs; unauthorized says that it needed to and did not.
	proxyUser    string
	unauthorized bool

	// For the audit log: the credential uses, the forward proxy's decision (see decide), the
	// matched route's name and where the request was sent.
	uses      []credUse
	decision  string
	routeName string
	sent      sentTo
}

func (w *responseRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.written += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the server's writer, for flushing and deadlines.
func (w *responseRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// copyBody streams src to w with a pooled buffer. With flush set, every chunk is flushed as soon
// as it is written, so that streamed responses (server-sent events, long polls, chunked answers
// of unknown length) reach the client as the backend produces them.
func (p *Proxy) copyBody(w *responseRecorder, src io.Reader, flush bool) error {
	bp := p.bufs.Get().(*[]byte)
	defer p.bufs.Put(bp)
	buf := *bp
	rc := http.NewResponseController(w)
	for {
		n, rerr := src.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return errors.Join(errWriteClient, werr)
			}
			if flush {
				if ferr := rc.Flush(); ferr != nil {
					return errors.Join(errWriteClient, ferr)
				}
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

// restoreExpect puts back "Expect: 100-continue" on r when its client sent it over HTTP/2, so that
// it reaches the backend as it does over HTTP/1.1: the backend's transport then reads r's body,
// and so has Go's server send the client 100 Continue, only once the backend has sent its own
// 100 (or -expect-continue-timeout-backend passed); a backend that refuses at once (401, 413,
// 417) is answered before the client sends its body. Go's HTTP/2 server takes the field out of
// the header and keeps only a flag in the request body, which sends 100 Continue on its first
// read; no API tells a handler, so h2NeedsContinue reads that flag.
func restoreExpect(r *http.Request) {
	if r.ProtoMajor == 2 && r.ContentLength != 0 && h2NeedsContinue(r.Body) {
		r.Header["Expect"] = []string{"100-continue"}
	}
}

// h2NeedsContinue reports whether body is the request body of a Go HTTP/2 server (net/http's
// bundled copy of golang.org/x/net/http2) that still owes its client 100 Continue. It only reads
// the body's unexported needsContinue field, before anything has read the body; should a Go
// release rename the type or the field, it reports false and the HTTP/2 regression test
// (TestExpectContinueHTTP2) fails, rather than anything here misbehaving. The field is looked
// up by name once, when the first such body is seen, rather than per request.
func h2NeedsContinue(body io.ReadCloser) bool {
	v := reflect.ValueOf(body)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return false
	}
	v = v.Elem()
	index, ok := needsContinueField(v.Type())
	return ok && v.FieldByIndex(index).Bool()
}

// h2Body is the type of a Go HTTP/2 server's request bodies and the index of its needsContinue
// field, once one has been seen.
type h2Body struct {
	typ   reflect.Type
	index []int
}

var seenH2Body atomic.Pointer[h2Body]

// needsContinueField returns the index sequence of t's needsContinue field, a bool, if t is
// the request body type of Go's HTTP/2 server.
func needsContinueField(t reflect.Type) ([]int, bool) {
	if b := seenH2Body.Load(); b != nil && b.typ == t {
		return b.index, true
	}
	if t.Kind() != reflect.Struct || t.PkgPath() != "net/http" || t.Name() != "http2requestBody" {
		return nil, false
	}
	f, ok := t.FieldByName("needsContinue")
	if !ok || f.Type.Kind() != reflect.Bool {
		return nil, false
	}
	seenH2Body.Store(&h2Body{typ: t, index: f.Index})
	return f.Index, true
}

// addNothing keeps the server from adding to h, a backend's answer, fields that the backend did
// not send: Date, a Content-Type sniffed from the body and, over HTTP/2 (protoMajor 2), a
// Content-Length counted from it. A trailers-only gRPC answer would otherwise gain
// "content-length: 0" and "date". A field present with a nil value is net/http's way to suppress
// them (see http.ResponseWriter). Over HTTP/1.1 the server still chooses between Content-Length
// and chunked: that is the framing of the client's connection, not a field of the answer.
func addNothing(h http.Header, protoMajor int) {
	for _, k := range [...]string{"Date", "Content-Type"} {
		if _, ok := h[k]; !ok {
			h[k] = nil
		}
	}
	if _, ok := h["Content-Length"]; !ok && protoMajor == 2 {
		h["Content-Length"] = nil
	}
}

// announceTrailers declares the backend's trailers in the response header, so that net/http
// sends them after the body.
func announceTrailers(h http.Header, trailer http.Header) {
	if len(trailer) == 0 {
		return
	}
	names := make([]string, 0, len(trailer))
	for k := range trailer {
		names = append(names, k)
	}
	h.Add("Trailer", strings.Join(names, ", "))
}

// copyTrailers sets the trailers that arrived with the backend's body. They are only known once
// the body has been read to the end.
func copyTrailers(h http.Header, trailer http.Header) {
	for k, vv := range trailer {
		h[http.TrailerPrefix+k] = vv
	}
}
