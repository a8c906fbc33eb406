package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"syscall"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/secrets"
)

// errNoRoute is the reason logged when no route matches a request.
var errNoRoute = errors.New("no route")

// errInvalidQuery is the reason a request whose query does not parse (a ";" separator, a bad
// "%" escape) is refused with 400 before it is matched.
var errInvalidQuery = errors.New("invalid query")

// errClientBodyTimeout is the reason a request failed when its client did not send the body
// within the deadline of the route's readTimeout filter.
var errClientBodyTimeout = errors.New("client request body read timeout")

// framingError is a request head that Listener's connections refused, with its status.
type framingError struct {
	status int
	reason string
}

func (e *framingError) Error() string { return "refused request framing: " + e.reason }

// statusFor is the one place where an error becomes an HTTP status. Everything the proxy can fail
// on passes through it, so the mapping is visible at a glance and errors.Is/As see through any
// wrapping a filter or the transport added.
func (p *Proxy) statusFor(err error) int {
	var netErr net.Error
	var fe *framingError
	if code, ok := forwardStatus(err); ok {
		return code
	}
	switch {
	case errors.Is(err, errNoRoute):
		return p.noRoute // 404 unless -default-http-status says otherwise
	case errors.As(err, &fe):
		return fe.status
	case errors.Is(err, errInvalidQuery), errors.Is(err, filters.ErrContentBlocked):
		return http.StatusBadRequest
	case errors.Is(err, errUpgrade), errors.Is(err, errCompressedEcho):
		return http.StatusBadGateway
	case errors.As(err, new(*tls.CertificateVerificationError)):
		// The backend is not who it should be: a gateway problem, and never worth a retry
		// that a 504 might invite.
		return http.StatusBadGateway
	case errors.Is(err, errCircuitOpen):
		return http.StatusServiceUnavailable
	case errors.Is(err, secrets.ErrUnboundDestination):
		return http.StatusForbidden
	case errors.Is(err, filters.ErrCredentialUnavailable):
		// Fail closed: without its credential the request must not leave.
		return http.StatusServiceUnavailable
	case errors.Is(err, errClientBodyTimeout):
		return http.StatusRequestTimeout // before the timeouts below: it wraps one
	case errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &netErr) && netErr.Timeout():
		return http.StatusGatewayTimeout
	case isDialError(err), responseHeadRefused(err):
		return http.StatusBadGateway
	default:
		// The backend accepted the connection and then failed to answer, for example by
		// closing it; Skipper answers 500 here, and clients may rely on telling the two apart.
		return http.StatusInternalServerError
	}
}

// isDialError reports whether err happened before any byte of the request reached the backend:
// the name did not resolve or the connection was refused or unreachable.
func isDialError(err error) bool {
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return true
	}
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH)
}
