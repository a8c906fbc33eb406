// Package httpsyntax checks the parts of an HTTP message that route text, secrets and filters
// put into requests: field names and field values (RFC 9110 §5). golang.org/x/net/http/httpguts
// has the same checks, but the module does not require x/net and these two are all we need.
package httpsyntax

import "strings"

// IsToken reports whether s is a token (RFC 9110 §5.6.2), as field names must be: one or more
// visible ASCII characters other than the delimiters.
func IsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenByte(s[i]) {
			return false
		}
	}
	return true
}

func isTokenByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

// InvalidValueByte returns the index of the first byte that may not appear in a field value,
// or -1. RFC 9110 §5.5 allows visible ASCII, space, horizontal tab and obs-text (0x80-0xff); it
// forbids the other control characters, CR, LF and NUL above all, which would end the field
// and let a value smuggle in another. Go's transport refuses the same bytes.
func InvalidValueByte[T ~string | ~[]byte](v T) int {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return i
		}
	}
	return -1
}

// HasToken reports whether any of the comma-separated lists in values holds token, compared
// without regard to ASCII case and with spaces and tabs around list members ignored, as
// httpguts.HeaderValuesContainsToken reads Connection and Upgrade.
func HasToken(values []string, token string) bool {
	for _, v := range values {
		for v != "" {
			var member string
			member, v, _ = strings.Cut(v, ",")
			if equalFoldASCII(strings.Trim(member, " \t"), token) {
				return true
			}
		}
	}
	return false
}

// equalFoldASCII reports whether a and b are equal when ASCII letters are folded to lower case;
// other bytes must match exactly, so that no Unicode folding makes a token of a non-token.
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}
