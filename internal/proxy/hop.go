package proxy

import (
	"net/http"
	"net/textproto"
	"strings"
)

// isHopHeader reports whether the canonical header name is hop-by-hop: one of RFC 9110 §7.6.1's
// connection-specific fields, or a de facto one that older clients and proxies still send. Such
// headers describe one connection, not the message, so a proxy must not forward them.
// Proxy-Authorization is among them because it authenticates the client to us, never to a backend.
func isHopHeader(name string) bool {
	switch name {
	case "Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
		"Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade":
		return true
	}
	return false
}

// acceptsTrailers reports whether h, a request's header, holds "TE: trailers": the client takes
// trailer fields. Unlike the rest of TE, which describes transfer codings of one connection, it
// says something about the client that a proxy passing trailers on keeps true, and gRPC needs it:
// servers such as grpcio refuse a call without it. Read it before removeHopHeaders; as
// httputil.ReverseProxy, the request then goes on with "TE: trailers" alone.
func acceptsTrailers(h http.Header) bool {
	for _, v := range h["Te"] {
		for v != "" {
			var coding string
			coding, v, _ = strings.Cut(v, ",")
			if strings.EqualFold(textproto.TrimString(coding), "trailers") {
				return true
			}
		}
	}
	return false
}

// removeHopHeaders deletes the hop-by-hop headers from h, starting with the ones that Connection
// names. For requests it runs before any filter, so a client's "Connection: Authorization" can
// strip only the client's own Authorization header, never one that a filter injects afterwards.
func removeHopHeaders(h http.Header) {
	for _, v := range h["Connection"] {
		for v != "" {
			var name string
			name, v, _ = strings.Cut(v, ",")
			if name = textproto.TrimString(name); name != "" {
				h.Del(name)
			}
		}
	}
	for name := range h {
		if isHopHeader(name) {
			delete(h, name)
		}
	}
}
