package filters

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// UnverifiedAuditLogName is the route name of the filter that names the caller of a request in
// a header, from the unverified claims of its bearer token.
const UnverifiedAuditLogName = "unverifiedAuditLog"

// UnverifiedAuditHeader is the request header unverifiedAuditLog adds.
const UnverifiedAuditHeader = "X-Unverified-Audit"

// unverifiedAuditInvalid is the header's value when the claim holds other characters than
// auditClaimChars allows, as Skipper writes it.
const unverifiedAuditInvalid = "<invalid-sub>"

// auditClaimChars is what a claim may hold to be copied as it is, as Skipper's documentation
// gives it (Skipper's code has A-z, which lets [\]^` through too).
var auditClaimChars = regexp.MustCompile(`^[a-zA-Z0-9_/:?=&%@.#-]*$`)

type unverifiedAuditLogSpec struct{}

type unverifiedAuditLogFilter struct{ claim string }

var (
	_ Spec   = (*unverifiedAuditLogSpec)(nil)
	_ Filter = (*unverifiedAuditLogFilter)(nil)
)

// NewUnverifiedAuditLog returns the spec of unverifiedAuditLog([claim]), which, as Skipper's,
// adds an X-Unverified-Audit header with the string claim (default "sub") of the JWT in the
// request's "Authorization: Bearer" header, decoded but not verified; a value with other
// characters than letters, digits and _/:?=&%@.#- becomes "<invalid-sub>". Without such a
// token or claim, nothing is added. The header is added to what the client sent, as Skipper
// adds it: a backend that trusts it must know the client can send its own.
//
// Skipper's documentation says the value is also logged; its code only sets the header, and so
// does this filter: the access log does not show request headers.
func NewUnverifiedAuditLog() Spec { return &unverifiedAuditLogSpec{} }

func (*unverifiedAuditLogSpec) Name() string { return UnverifiedAuditLogName }

func (*unverifiedAuditLogSpec) Create(args []any) (Filter, error) {
	a, err := stringArgs(UnverifiedAuditLogName, args, 0, "claim")
	if err != nil {
		return nil, err
	}
	f := &unverifiedAuditLogFilter{claim: "sub"}
	if len(a) == 1 {
		f.claim = a[0]
	}
	return f, nil
}

// Request reads the token the request carries as the filters before this one left it, as
// Skipper does.
func (f *unverifiedAuditLogFilter) Request(r *http.Request) error {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return nil
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 || slices.Contains(parts, "") {
		return nil
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil
	}
	var claims map[string]any
	if json.Unmarshal(payload, &claims) != nil {
		return nil
	}
	v, ok := claims[f.claim].(string)
	if !ok {
		return nil
	}
	if !auditClaimChars.MatchString(v) {
		v = unverifiedAuditInvalid
	}
	r.Header.Add(UnverifiedAuditHeader, v)
	return nil
}
