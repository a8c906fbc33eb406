package filters

import (
	"net/http"
	"net/url"
	"strings"
)

// SwapSecretPlaceholderName is the route name of the filter that replaces a placeholder the
// client holds with a secret's value.
const SwapSecretPlaceholderName = "swapSecretPlaceholder"

type swapSpec struct {
	src    SecretSource
	policy DestinationPolicy
}

type swapFilter struct {
	src         SecretSource
	policy      DestinationPolicy // nil: the secret may go anywhere
	placeholder string
	secret      string
}

var (
	_ Spec               = (*swapSpec)(nil)
	_ EgressFilter       = (*swapFilter)(nil)
	_ DestinationChecker = (*swapFilter)(nil)
)

// NewSwapSecretPlaceholder returns the spec of swapSecretPlaceholder(placeholder, secretName).
// As the request leaves, on each attempt (see EgressFilter), every occurrence of the literal
// placeholder in its header values and in its query string (in keys and values, matched after
// percent-decoding and written back percent-encoded) is replaced with the secret's current
// value, looked up in src. The path, the Host and the body are left alone.
//
// The swap happens only toward a destination policy allows for the secret: toward any other,
// the request leaves with the placeholder, which is worth nothing there. A request that holds
// the placeholder when the secret is missing, empty or unusable in a header fails with a
// *CredentialError (503), so that it never leaves with the placeholder toward where the secret
// should have gone; one that holds no placeholder does not need the secret and leaves as it is.
// A nil policy lets the secret go anywhere.
func NewSwapSecretPlaceholder(src SecretSource, policy DestinationPolicy) Spec {
	return &swapSpec{src: src, policy: policy}
}

func (*swapSpec) Name() string { return SwapSecretPlaceholderName }

func (s *swapSpec) Create(args []any) (Filter, error) {
	a, err := stringArgs(SwapSecretPlaceholderName, args, 2, "placeholder", "secret name")
	if err != nil {
		return nil, err
	}
	if a[0] == "" {
		return nil, argsErrorf("%s: argument 1 (placeholder) must not be empty", SwapSecretPlaceholderName)
	}
	if err := checkSecretName(SwapSecretPlaceholderName, 2, "secret name", a[1]); err != nil {
		return nil, err
	}
	if s.src == nil {
		return nil, nilSourceError(SwapSecretPlaceholderName)
	}
	return &swapFilter{src: s.src, policy: s.policy, placeholder: a[0], secret: a[1]}, nil
}

// Request does nothing: the swap is made in Egress, once the destination is final.
func (*swapFilter) Request(*http.Request) error { return nil }

// SecretNames returns the name of the secret the filter swaps in.
func (f *swapFilter) SecretNames() []string { return []string{f.secret} }

// ChecksDestination marks the filter as one that consults the DestinationPolicy itself.
func (*swapFilter) ChecksDestination() {}

// Egress swaps the secret in for the placeholder in out, unless the secret may not go to out's
// destination.
func (f *swapFilter) Egress(out *http.Request) error {
	if f.policy != nil && f.policy.AllowDestination(f.secret, out.URL.Scheme, out.URL.Host) != nil {
		return nil // the placeholder leaves as it came
	}
	inHeader := headerHolds(out.Header, f.placeholder)
	inQuery := out.URL.RawQuery != "" && queryHolds(out.URL.RawQuery, f.placeholder)
	if !inHeader && !inQuery {
		return nil
	}
	v, err := secretValue(f.src, SwapSecretPlaceholderName, f.secret)
	RecordCredentialUse(out, CredentialUse{Filter: SwapSecretPlaceholderName, Secret: f.secret, Value: v, Err: err})
	if err != nil {
		return err
	}
	value := string(v)
	if inHeader {
		for k, vv := range out.Header {
			for i, h := range vv {
				if strings.Contains(h, f.placeholder) {
					out.Header[k][i] = strings.ReplaceAll(h, f.placeholder, value)
				}
			}
		}
	}
	if inQuery {
		out.URL.RawQuery = swapQuery(out.URL.RawQuery, f.placeholder, value)
	}
	return nil
}

// headerHolds reports whether a value of h holds s; it stops at the first.
func headerHolds(h http.Header, s string) bool {
	for _, vv := range h {
		for _, v := range vv {
			if strings.Contains(v, s) {
				return true
			}
		}
	}
	return false
}

// queryHolds reports whether a key or value of the query q, percent-decoded, holds s.
func queryHolds(q, s string) bool {
	for part := range strings.SplitSeq(q, "&") {
		k, v, _ := strings.Cut(part, "=")
		if decodedHolds(k, s) || decodedHolds(v, s) {
			return true
		}
	}
	return false
}

func decodedHolds(raw, s string) bool {
	d, err := url.QueryUnescape(raw)
	return err == nil && strings.Contains(d, s)
}

// swapQuery returns the query q with every occurrence of old in its keys and values, read as
// url.ParseQuery reads them (percent-decoded, '+' a space), replaced with repl and written back
// with url.QueryEscape. The keys and values that do not hold old, the separators and their
// order stay byte for byte, so a backend sees the query as the client wrote it but for the
// swap. A part that does not decode is left alone: the proxy refuses such queries before
// routing (see queryError).
func swapQuery(q, old, repl string) string {
	var b strings.Builder
	b.Grow(len(q) + len(repl))
	first := true
	for part := range strings.SplitSeq(q, "&") {
		if !first {
			b.WriteByte('&')
		}
		first = false
		k, v, hasValue := strings.Cut(part, "=")
		b.WriteString(swapComponent(k, old, repl))
		if hasValue {
			b.WriteByte('=')
			b.WriteString(swapComponent(v, old, repl))
		}
	}
	return b.String()
}

// swapComponent returns raw, one percent-encoded key or value, with old replaced with repl in
// its decoded form and the result encoded again; raw itself when it does not hold old.
func swapComponent(raw, old, repl string) string {
	d, err := url.QueryUnescape(raw)
	if err != nil || !strings.Contains(d, old) {
		return raw
	}
	return url.QueryEscape(strings.ReplaceAll(d, old, repl))
}
