package proxy

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/sirupsen/logrus"

	"github.com/skipper-egress/skipper/routing"
)

// errUpgrade is returned when a backend's answer to an upgrade request cannot be tunnelled.
var errUpgrade = errors.New("protocol upgrade failed")

// upgradeType returns the protocol an HTTP/1.x request asks to switch to (RFC 9110 §7.8), or ""
// when it asks for none: Upgrade only counts when Connection names it.
func upgradeType(r *http.Request) string {
	if r.ProtoMajor != 1 || !hasToken(r.Header["Connection"], "upgrade") {
		return ""
	}
	return r.Header.Get("Upgrade")
}

// keepUpgrade puts back the two headers that ask for an upgrade, which hop-by-hop removal took
// away: this one hop is the one that should switch.
func keepUpgrade(h http.Header, proto string) {
	h.Set("Connection", "Upgrade")
	h.Set("Upgrade", proto)
}

// tunnel answers a 101 Switching Protocols from the backend: it sends the 101 to the client, then
// copies bytes both ways between the client's connection and the backend's until either side
// closes, and then closes both.
func (p *Proxy) tunnel(w *responseRecorder, r *http.Request, res *http.Response, route *routing.Route, proto string) {
	backend, ok := res.Body.(io.ReadWriteCloser)
	if !ok {
		res.Body.Close()
		p.fail(w, r, route, fmt.Errorf("%w: the backend switched protocols without a connection", errUpgrade))
		return
	}
	defer backend.Close()
	if got := res.Header.Get("Upgrade"); !strings.EqualFold(got, proto) {
		p.fail(w, r, route, fmt.Errorf("%w: the client asked for %q, the backend switched to %q", errUpgrade, proto, got))
		return
	}
	client, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		p.fail(w, r, route, fmt.Errorf("%w: %w", errUpgrade, err))
		return
	}
	defer client.Close()

	res.Body = nil // Write sends the status line and header only
	w.status = res.StatusCode
	if err := res.Write(brw); err != nil {
		return
	}
	if err := brw.Flush(); err != nil {
		return
	}

	// The first copy to end closes both connections, which ends the other.
	var toClient atomic.Int64
	done := make(chan struct{}, 2)
	go copyTunnel(backend, brw.Reader, nil, done)
	go copyTunnel(client, backend, &toClient, done)
	running := 2
	select {
	case <-done:
		running--
	case <-r.Context().Done():
	}
	client.Close()
	backend.Close()
	for ; running > 0; running-- {
		<-done
	}
	w.written = toClient.Load()
	p.log.WithFields(logrus.Fields{fieldRoute: route.ID, "upgrade": proto}).Debug("tunnel closed")
}

// copyTunnel copies one direction of a tunnel, counting the bytes into n when n is set, and
// reports on done when it ends.
func copyTunnel(dst io.Writer, src io.Reader, n *atomic.Int64, done chan<- struct{}) {
	written, _ := io.Copy(dst, src)
	if n != nil {
		n.Store(written)
	}
	done <- struct{}{}
}
