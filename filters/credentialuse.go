package filters

import (
	"errors"
	"net/http"
)

// Outcomes of a credential use, as CredentialUse.Result gives them. They are the outcome label
// of skipper_credential_injections_total and the outcome field of the audit log.
const (
	// OutcomeInjected: the credential was put into the request.
	OutcomeInjected = "injected"
	// OutcomeUnavailable: the secret had no usable value (the error wraps
	// ErrCredentialUnavailable); the request is not sent with it.
	OutcomeUnavailable = "unavailable"
	// OutcomeFailed: any other error stopped the filter.
	OutcomeFailed = "failed"
)

// CredentialUse is one use of a secret by a credential filter on one request, as the filter
// records it with RecordCredentialUse. The proxy writes it to the audit log, counts it in
// skipper_credential_injections_total, and masks Value and Also in the response when the
// backend echoes them (-mask-echoed-credentials).
//
// Value and Also are kept only in memory, for this one request: they are never logged,
// and the audit log shows only a keyed fingerprint of them.
type CredentialUse struct {
	// Filter is the filter's name, such as "bearerinjector".
	Filter string
	// Secret is the name (file path) of the secret used, as the route names it. A filter that
	// reads several secrets names the one that authenticates (Basic: the password).
	Secret string
	// Value is the secret's value as injected; nil when nothing was injected.
	Value []byte
	// Also is what else the filter put into the request that a backend could echo and that
	// depends on the secret: the base64 of "user:password" of Basic credentials, the access
	// token an OAuth2 grant obtained with the secret; "" if nothing.
	Also string
	// Version identifies the version of a credential whose value never leaves the proxy, such
	// as the DER of a client certificate whose private key signs the TLS handshake: the audit
	// fingerprint covers it when Value and Also are empty. It is never masked.
	Version []byte
	// Err is the filter's error; nil when the credential was injected.
	Err error
	// Outcome, if set, overrides the outcome derived from Err (see Result), for filters with
	// outcomes of their own. It must be a short fixed word: it becomes a metric label.
	Outcome string
}

// Result returns u.Outcome if set, else OutcomeInjected when Err is nil, OutcomeUnavailable
// when Err wraps ErrCredentialUnavailable, and OutcomeFailed otherwise.
func (u *CredentialUse) Result() string {
	switch {
	case u.Outcome != "":
		return u.Outcome
	case u.Err == nil:
		return OutcomeInjected
	case errors.Is(u.Err, ErrCredentialUnavailable):
		return OutcomeUnavailable
	}
	return OutcomeFailed
}

// RecordCredentialUse records, in the Exchange of r, that a credential filter used a secret on
// this request: every filter that injects a secret calls it once per use, from Request or
// Egress, in one line, whether the use succeeded or not:
//
//	filters.RecordCredentialUse(r, filters.CredentialUse{Filter: name, Secret: path, Value: v, Err: err})
//
// A request without an Exchange (a filter unit test) records nothing. Value must stay
// unchanged until the request ends: the store's value itself may be passed, it is not copied.
func RecordCredentialUse(r *http.Request, u CredentialUse) {
	if e := ExchangeOf(r); e != nil {
		if u.Err != nil {
			u.Value, u.Also = nil, "" // nothing was injected
		}
		e.uses = append(e.uses, u)
	}
}

// TakeCredentialUses returns the credential uses recorded in e since the last call and forgets
// them. The proxy calls it after each filter. A nil Exchange has none.
func (e *Exchange) TakeCredentialUses() []CredentialUse {
	if e == nil || len(e.uses) == 0 {
		return nil
	}
	u := e.uses
	e.uses = nil
	return u
}
