package metrics

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/secrets"
)

// Kinds of backend error, the values of the kind label of skipper_backend_errors_total.
const (
	// KindDial is a backend that could not be reached: the name did not resolve, or the
	// connection was refused or unreachable.
	KindDial = "dial"
	// KindTimeout is a backend that did not answer in time.
	KindTimeout = "timeout"
	// KindReset is a backend that closed or reset the connection before answering.
	KindReset = "reset"
	// KindOther is any other failure.
	KindOther = "other"
)

const (
	kindDial uint8 = iota
	kindTimeout
	kindReset
	kindOther
	numKinds
)

func kindIndex(kind string) uint8 {
	switch kind {
	case KindDial:
		return kindDial
	case KindTimeout:
		return kindTimeout
	case KindReset:
		return kindReset
	}
	return kindOther
}

func kindLabel(k uint8) string {
	switch k {
	case kindDial:
		return KindDial
	case kindTimeout:
		return KindTimeout
	case kindReset:
		return KindReset
	}
	return KindOther
}

// BackendErrorKind returns the kind of a failed backend round trip, for BackendError. A
// timeout is checked first: a dial that timed out counts as a timeout.
func BackendErrorKind(err error) string {
	var netErr net.Error
	var opErr *net.OpError
	var dnsErr *net.DNSError
	switch {
	case err == nil:
		return KindOther
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return KindTimeout
	case errors.As(err, &opErr) && opErr.Op == "dial",
		errors.As(err, &dnsErr),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.EHOSTUNREACH),
		errors.Is(err, syscall.ENETUNREACH):
		return KindDial
	case errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF):
		// net/http reports a connection the backend closed before answering as io.EOF or
		// io.ErrUnexpectedEOF, wrapped.
		return KindReset
	}
	return KindOther
}

// Reasons a credential was not injected, the values of the reason label of
// skipper_credential_injection_failures_total.
const (
	// ReasonNotFound is a secret that has no value: its file is missing or was never read.
	ReasonNotFound = "not found"
	// ReasonEmptyValue is a secret whose file is empty.
	ReasonEmptyValue = "empty value"
	// ReasonControlCharacter is a secret whose value holds a byte a header may not carry.
	ReasonControlCharacter = "control character"
	// ReasonTokenEndpoint is an OAuth2 token that could not be fetched from its endpoint.
	ReasonTokenEndpoint = "token endpoint"
	// ReasonOther is any other failure.
	ReasonOther = "other"
)

const (
	reasonNotFound uint8 = iota
	reasonEmptyValue
	reasonControlCharacter
	reasonTokenEndpoint
	reasonOther
	numReasons
)

func reasonIndex(reason string) uint8 {
	switch reason {
	case ReasonNotFound:
		return reasonNotFound
	case ReasonEmptyValue:
		return reasonEmptyValue
	case ReasonControlCharacter:
		return reasonControlCharacter
	case ReasonTokenEndpoint:
		return reasonTokenEndpoint
	}
	return reasonOther
}

func reasonLabel(r uint8) string {
	switch r {
	case reasonNotFound:
		return ReasonNotFound
	case reasonEmptyValue:
		return ReasonEmptyValue
	case reasonControlCharacter:
		return ReasonControlCharacter
	case reasonTokenEndpoint:
		return ReasonTokenEndpoint
	}
	return ReasonOther
}

// FailureReason returns the reason, for InjectionFailed, of an error a credential filter
// returned. The unusable secret named by a *filters.CredentialError is the reason even when it
// is wrapped in a *filters.TokenError (a client secret the token request needed): fixing the
// file, not the endpoint, is what helps. The free-text Reason of the error is never used as a
// label, only matched against the fixed set.
func FailureReason(err error) string {
	var ce *filters.CredentialError
	var te *filters.TokenError
	switch {
	case err == nil:
		return ReasonOther
	case errors.As(err, &ce):
		switch {
		case ce.Reason == "not found":
			return ReasonNotFound
		case ce.Reason == "empty value":
			return ReasonEmptyValue
		case strings.Contains(ce.Reason, "control character"):
			return ReasonControlCharacter
		case errors.Is(ce.Err, secrets.ErrNotFound):
			return ReasonNotFound
		}
		return ReasonOther
	case errors.As(err, &te):
		return ReasonTokenEndpoint
	case errors.Is(err, secrets.ErrNotFound):
		return ReasonNotFound
	}
	return ReasonOther
}
