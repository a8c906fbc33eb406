package h1

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
)

// newTLSConfig returns the Transport's TLS configuration, made from the caller's: HTTP/1.1 alone
// in ALPN, and a session cache when it has none, so that a new connection to a backend seen
// before resumes its session instead of a full handshake.
func newTLSConfig(base *tls.Config) *tls.Config {
	var c *tls.Config
	if base == nil {
		c = &tls.Config{}
	} else {
		c = base.Clone()
	}
	c.NextProtos = []string{"http/1.1"}
	if c.ClientSessionCache == nil {
		c.ClientSessionCache = tls.NewLRUClientSessionCache(0)
	}
	return c
}

// handshake runs the TLS handshake over nc for serverName, within the handshake timeout and ctx.
// A backend that refuses HTTP/1.1 gives ErrNoHTTP1.
func (t *Transport) handshake(ctx context.Context, nc net.Conn, serverName string) (*tls.Conn, error) {
	conf := t.tlsConf
	if conf.ServerName == "" {
		conf = conf.Clone()
		conf.ServerName = serverName
	}
	tc := tls.Client(nc, conf)
	ctx, cancel := context.WithTimeout(ctx, t.tlsTimeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		if refusedHTTP1(err) {
			return nil, fmt.Errorf("%w: %w", ErrNoHTTP1, err)
		}
		return nil, err
	}
	// Only an HTTP/2 server ignoring the offer would answer with another protocol, and Go's
	// client refuses that itself; a server without ALPN leaves it empty.
	if p := tc.ConnectionState().NegotiatedProtocol; p != "" && p != "http/1.1" {
		return nil, fmt.Errorf("h1: the backend chose %q over HTTP/1.1", p)
	}
	return tc, nil
}

// refusedHTTP1 reports whether err is the backend's no_application_protocol alert: none of the
// protocols offered, HTTP/1.1 alone, is one it speaks.
func refusedHTTP1(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "remote error" && op.Err != nil &&
		op.Err.Error() == tls.AlertError(120).Error()
}
