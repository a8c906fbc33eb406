package proxy

import (
	"errors"
	"io"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/skipper-egress/skipper/routing"
)

// setWriteDeadline gives writing the answer to the client the deadline of route's last
// writeTimeout filter, if it has one.
func setWriteDeadline(w http.ResponseWriter, route *routing.Route) {
	if d := route.Settings.WriteTimeout; d > 0 {
		// Deadlines are wall-clock times on the socket, hence time.Now and not p.now. Go's
		// server lifts them before the connection's next request.
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d))
	}
}

// setReadDeadline gives reading out's body from the client the deadline of route's last
// readTimeout filter, if it has one and out has a body. The body is wrapped to lift the
// deadline once it has been read to its end: past that, Go's server keeps reading only to
// notice a client that goes away, and a deadline there would cancel a request whose backend is
// merely slow. A request without a body has nothing for the deadline to bound.
func setReadDeadline(w http.ResponseWriter, route *routing.Route, out *http.Request) {
	if out.Body == nil {
		return
	}
	d := route.Settings.ReadTimeout
	if d <= 0 {
		return
	}
	rc := http.NewResponseController(w)
	if err := rc.SetReadDeadline(time.Now().Add(d)); err != nil {
		return // the connection cannot have deadlines; leave the body unbounded
	}
	out.Body = &deadlineBody{ReadCloser: out.Body, rc: rc}
}

// deadlineBody is a client's request body read under a deadline. It records whether the
// deadline passed and lifts it once the body is read to its end.
type deadlineBody struct {
	io.ReadCloser
	rc       *http.ResponseController
	timedOut atomic.Bool // read by the handler while the transport reads the body
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	switch {
	case err == io.EOF:
		_ = b.rc.SetReadDeadline(time.Time{})
	case errors.Is(err, os.ErrDeadlineExceeded):
		b.timedOut.Store(true)
	}
	return n, err
}

// readTimedOut reports whether reading out's body from the client ran past the deadline of a
// readTimeout filter.
func readTimedOut(out *http.Request) bool {
	b, ok := out.Body.(*deadlineBody)
	return ok && b.timedOut.Load()
}
