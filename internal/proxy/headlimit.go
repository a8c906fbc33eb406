package proxy

import (
	"errors"
	"strings"

	"github.com/skipper-egress/skipper/internal/h1"
)

// responseHeadRefused reports whether err is the transport refusing a backend's response head:
// over TransportOptions.MaxResponseHeaderBytes, or, over HTTP/2, breaking the protocol. The
// backend answered with something invalid, a gateway problem answered 502 (RFC 9110 §15.6.3).
//
// net/http's transports say so only in their messages, which the tests of every transport pin
// down. Over HTTP/2 a head over the limit shows in one of three ways: a header list over it, a
// single field over it (the HPACK decoder's COMPRESSION_ERROR), or a frame far over it
// (PROTOCOL_ERROR); a "connection error" is always one the client found in the backend's frames.
func responseHeadRefused(err error) bool {
	if errors.Is(err, h1.ErrResponseHeaderTooLarge) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "server response headers exceeded") || // net/http, HTTP/1.1
		strings.Contains(msg, "response header list larger than advertised limit") ||
		strings.Contains(msg, "connection error: COMPRESSION_ERROR") ||
		strings.Contains(msg, "connection error: PROTOCOL_ERROR")
}
