package filters

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/skipper-egress/skipper/internal/httpsyntax"
)

// argsError is an argument error from Spec.Create. Its text is the whole message, so route
// errors read "bearerinjector: want 1 string argument (secret name), got 2" without a trailing
// sentinel, while errors.Is still finds ErrInvalidArgs.
type argsError struct{ msg string }

func (e *argsError) Error() string { return e.msg }
func (e *argsError) Unwrap() error { return ErrInvalidArgs }

func argsErrorf(format string, a ...any) error {
	return &argsError{msg: fmt.Sprintf(format, a...)}
}

// stringArgs checks that args holds at least min and at most len(names) arguments, all strings,
// and returns them. names describe the arguments in order, for the error messages.
func stringArgs(filter string, args []any, min int, names ...string) ([]string, error) {
	if len(args) < min || len(args) > len(names) {
		return nil, argsErrorf("%s: want %s, got %d", filter, usage(min, names), len(args))
	}
	out := make([]string, len(args))
	for i, a := range args {
		s, ok := a.(string)
		if !ok {
			return nil, argsErrorf("%s: argument %d (%s) must be a string, got %T", filter, i+1, names[i], a)
		}
		out[i] = s
	}
	return out, nil
}

// usage describes an argument list: "1 string argument (secret name)" or
// "2 to 4 string arguments (header name, secret name[, prefix[, suffix]])".
func usage(min int, names []string) string {
	var b strings.Builder
	switch {
	case min != len(names):
		fmt.Fprintf(&b, "%d to %d string arguments (", min, len(names))
	case min == 1:
		b.WriteString("1 string argument (")
	default:
		fmt.Fprintf(&b, "%d string arguments (", min)
	}
	for i, n := range names {
		if i >= min {
			b.WriteByte('[')
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(n)
	}
	b.WriteString(strings.Repeat("]", len(names)-min))
	b.WriteByte(')')
	return b.String()
}

// checkSecretName rejects an empty secret name, which can never match a file.
func checkSecretName(filter string, pos int, what, name string) error {
	if name == "" {
		return argsErrorf("%s: argument %d (%s) must not be empty", filter, pos, what)
	}
	return nil
}

// checkHeaderName rejects a header name that is not an RFC 9110 §5.1 token.
func checkHeaderName(filter string, pos int, name string) error {
	if !httpsyntax.IsToken(name) {
		return argsErrorf("%s: argument %d (header name) %s is not a valid header name",
			filter, pos, strconv.Quote(name))
	}
	return nil
}

// checkHeaderText rejects route text that cannot be part of a header value. It names the
// offending byte, never the text: people do paste credentials into route files.
func checkHeaderText(filter string, pos int, what, s string) error {
	if i := httpsyntax.InvalidValueByte(s); i >= 0 {
		return argsErrorf("%s: argument %d (%s) contains control character 0x%02x", filter, pos, what, s[i])
	}
	return nil
}
