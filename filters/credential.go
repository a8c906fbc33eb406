package filters

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/skipper-egress/skipper/internal/httpsyntax"
	"github.com/skipper-egress/skipper/secrets"
)

// SecretSource looks secrets up by name (their file path). *secrets.Store implements it.
//
// Get must be safe for concurrent use, must not allocate a copy of the value on each call if
// it can help it (the value is injected on every request), and must never put a secret value in
// the errors it returns. An error for a secret that has no value should wrap secrets.ErrNotFound.
type SecretSource interface {
	Get(name string) (secrets.Secret, error)
}

// SecretUser is implemented by filters that read secrets. The route loader uses it to warn
// about a route that names a secret outside every credentials path.
type SecretUser interface {
	// SecretNames returns the names (file paths) of the secrets the filter reads, in argument
	// order. The caller may keep and modify the slice.
	SecretNames() []string
}

// CredentialError is the error a credential filter returns when its secret has no value it can
// inject: the secret is missing, empty, or holds bytes that may not appear in a header. It
// wraps ErrCredentialUnavailable and, when the lookup failed, the source's error, so
// errors.Is(err, secrets.ErrNotFound) also works. It never holds the secret's value.
type CredentialError struct {
	// Filter is the name of the filter that failed, such as "bearerinjector".
	Filter string
	// SecretName is the name (file path) of the secret that could not be used.
	SecretName string
	// Reason says what is wrong with the secret, such as "not found" or "empty value".
	Reason string
	// Err is the source's error when the lookup failed; nil when the value was unusable.
	Err error
}

// Error returns, for example, `bearerinjector: credential unavailable: secret "/s/tok": empty value`.
func (e *CredentialError) Error() string {
	return e.Filter + ": " + ErrCredentialUnavailable.Error() + ": secret " +
		strconv.Quote(e.SecretName) + ": " + e.Reason
}

// Unwrap returns ErrCredentialUnavailable and, if set, the source's error.
func (e *CredentialError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrCredentialUnavailable}
	}
	return []error{ErrCredentialUnavailable, e.Err}
}

// secretValue looks a secret up and checks that it can go into a header value. On failure it
// returns a *CredentialError that names the secret and the reason, never the value.
func secretValue(src SecretSource, filter, name string) (secrets.Secret, error) {
	v, err := secretValueBytes(src, filter, name)
	if err != nil {
		return nil, err
	}
	if i := httpsyntax.InvalidValueByte(v); i >= 0 {
		return nil, &CredentialError{Filter: filter, SecretName: name, Reason: controlReason(v[i])}
	}
	return v, nil
}

// secretValueBytes looks a secret up, as secretValue does, but accepts any bytes (a PEM file
// holds line breaks): it fails only for a missing or empty secret.
func secretValueBytes(src SecretSource, filter, name string) (secrets.Secret, error) {
	v, err := src.Get(name)
	switch {
	case errors.Is(err, secrets.ErrNotFound):
		return nil, &CredentialError{Filter: filter, SecretName: name, Reason: "not found", Err: err}
	case err != nil:
		return nil, &CredentialError{Filter: filter, SecretName: name, Reason: "lookup failed: " + err.Error(), Err: err}
	case len(v) == 0:
		return nil, &CredentialError{Filter: filter, SecretName: name, Reason: "empty value"}
	}
	return v, nil
}

// controlReason names a forbidden byte by its code; a single control character says nothing
// useful about the value, and "0x0d" is exactly what an operator needs to spot a CRLF file.
func controlReason(c byte) string {
	return fmt.Sprintf("value contains control character 0x%02x", c)
}

// joinValue returns prefix + v + suffix with a single allocation, the returned string.
func joinValue(prefix string, v secrets.Secret, suffix string) string {
	var sb strings.Builder
	sb.Grow(len(prefix) + len(v) + len(suffix))
	sb.WriteString(prefix)
	sb.Write(v)
	sb.WriteString(suffix)
	return sb.String()
}

// setHeader replaces every instance of the canonical header key with value, as Header.Set does.
func setHeader(r *http.Request, key, value string) {
	if r.Header == nil {
		r.Header = make(http.Header)
	}
	r.Header[key] = []string{value}
}

// nilSourceError is what a credential spec's Create returns when it has no SecretSource: such a
// route could never send its request, so it is rejected when routes are compiled.
func nilSourceError(filter string) error {
	return fmt.Errorf("%s: %w: no secret source configured", filter, ErrCredentialUnavailable)
}
