package proxy

import (
	"net"
	"net/http"
	"time"
)

// TransportOptions tunes the connections to backends. A zero field takes the default named in its
// comment.
type TransportOptions struct {
	// DialTimeout bounds connecting to a backend. Default 10s.
	DialTimeout time.Duration
	// TLSHandshakeTimeout bounds the TLS handshake with an https backend. Default 10s.
	TLSHandshakeTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for a backend's response headers after the request
	// was sent; when it passes the client gets 504. Default 60s, as Skipper's
	// -response-header-timeout-backend. It does not limit a streaming response body.
	ResponseHeaderTimeout time.Duration
	// IdleConnsPerHost is how many idle keep-alive connections are kept to each backend.
	// Default 64, as Skipper's -idle-conns-num; Go's own default of 2 would make a busy
	// sidecar open and close a connection for most requests.
	IdleConnsPerHost int
	// IdleConnTimeout closes keep-alive connections unused for this long. Default 90s.
	IdleConnTimeout time.Duration
}

func (o TransportOptions) withDefaults() TransportOptions {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.DialTimeout, 10*time.Second)
	def(&o.TLSHandshakeTimeout, 10*time.Second)
	def(&o.ResponseHeaderTimeout, 60*time.Second)
	def(&o.IdleConnTimeout, 90*time.Second)
	if o.IdleConnsPerHost <= 0 {
		o.IdleConnsPerHost = 64
	}
	return o
}

// NewTransport returns the one http.Transport that carries every request to every backend, so
// that keep-alive connections are pooled across routes.
//
// It never consults HTTP_PROXY and friends: a proxy that honoured them for its own backends
// would loop through itself when a service points those variables at it. It asks for no
// compression and unpacks nothing, so clients and backends negotiate encodings end to end.
func NewTransport(opts TransportOptions) *http.Transport {
	o := opts.withDefaults()
	dialer := &net.Dialer{Timeout: o.DialTimeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   o.TLSHandshakeTimeout,
		ResponseHeaderTimeout: o.ResponseHeaderTimeout,
		ExpectContinueTimeout: time.Second,
		MaxIdleConnsPerHost:   o.IdleConnsPerHost,
		IdleConnTimeout:       o.IdleConnTimeout,
		DisableCompression:    true,
	}
}
