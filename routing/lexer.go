package routing

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// tokenKind says what a token is.
type tokenKind uint8

const (
	tokEOF tokenKind = iota
	// tokIllegal is text that starts no token; msg says why when more than "unexpected" is
	// known (an unterminated string, a malformed number).
	tokIllegal
	tokSymbol
	tokString
	tokRegexp
	tokNumber
	tokColon
	tokSemicolon
	tokComma
	tokOpenParen
	tokCloseParen
	tokAnd
	tokArrow
	tokAny
	tokOpenAngle
	tokCloseAngle
	tokShunt
	tokLoopback
	tokDynamic
	tokForward
)

// token is one lexical element. off is the byte offset of its first character in the source.
type token struct {
	kind tokenKind
	off  int
	text string  // source text; for tokIllegal the offending character
	val  string  // decoded value of strings and regexps
	num  float64 // value of numbers
	msg  string  // for tokIllegal: a complete error message, or "" for an unexpected character
}

// Messages of tokIllegal tokens that the parser completes with the token's position.
const (
	msgUnclosedString = "string starting at %d:%d is not closed"
	msgUnclosedRegexp = "regexp starting at %d:%d is not closed"
)

// The backends written in angle brackets that are single tokens.
const (
	textShunt    = "<shunt>"
	textLoopback = "<loopback>"
	textDynamic  = "<dynamic>"
	textForward  = "<forward>"
)

// singleToken returns the kind of a one-character token.
func singleToken(c byte) (tokenKind, bool) {
	switch c {
	case ':':
		return tokColon, true
	case ';':
		return tokSemicolon, true
	case ',':
		return tokComma, true
	case '(':
		return tokOpenParen, true
	case ')':
		return tokCloseParen, true
	case '*':
		return tokAny, true
	case '>':
		return tokCloseAngle, true
	}
	return 0, false
}

// lexer splits route text into tokens. It is a small value, so the parser peeks ahead by
// copying it.
type lexer struct {
	src string
	pos int
}

// next returns the next token, skipping whitespace and // comments. At the end of the input
// it returns tokEOF, and keeps returning it.
func (l *lexer) next() token {
	l.skipSpace()
	if l.pos >= len(l.src) {
		return token{kind: tokEOF, off: l.pos}
	}
	start := l.pos
	c := l.src[start]
	if kind, ok := singleToken(c); ok {
		return l.fixed(kind, 1)
	}
	switch c {
	case '&':
		if strings.HasPrefix(l.src[start:], "&&") {
			return l.fixed(tokAnd, 2)
		}
	case '-':
		if strings.HasPrefix(l.src[start:], "->") {
			return l.fixed(tokArrow, 2)
		}
		if start+1 < len(l.src) && isNumberChar(l.src[start+1]) {
			return l.number()
		}
	case '<':
		switch rest := l.src[start:]; {
		case strings.HasPrefix(rest, textShunt):
			return l.fixed(tokShunt, len(textShunt))
		case strings.HasPrefix(rest, textLoopback):
			return l.fixed(tokLoopback, len(textLoopback))
		case strings.HasPrefix(rest, textDynamic):
			return l.fixed(tokDynamic, len(textDynamic))
		case strings.HasPrefix(rest, textForward):
			return l.fixed(tokForward, len(textForward))
		}
		return l.fixed(tokOpenAngle, 1)
	case '"', '`':
		return l.str(c)
	case '/':
		return l.regexp()
	}
	switch {
	case isNumberChar(c):
		return l.number()
	case isSymbolStart(c):
		end := start + 1
		for end < len(l.src) && isSymbolChar(l.src[end]) {
			end++
		}
		l.pos = end
		return token{kind: tokSymbol, off: start, text: l.src[start:end]}
	}
	_, size := utf8.DecodeRuneInString(l.src[start:])
	l.pos += size
	return token{kind: tokIllegal, off: start, text: l.src[start:l.pos]}
}

func (l *lexer) fixed(kind tokenKind, n int) token {
	t := token{kind: kind, off: l.pos, text: l.src[l.pos : l.pos+n]}
	l.pos += n
	return t
}

// skipSpace skips whitespace and comments. A comment runs from // to the end of the line;
// "//" never starts a regexp, since a regexp cannot be empty.
func (l *lexer) skipSpace() {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
			l.pos++
		case c == '/' && strings.HasPrefix(l.src[l.pos:], "//"):
			if i := strings.IndexByte(l.src[l.pos:], '\n'); i >= 0 {
				l.pos += i + 1
			} else {
				l.pos = len(l.src)
			}
		case c >= utf8.RuneSelf:
			// U+0085 (NEL) and U+00A0 (no-break space) count as space, as in Skipper.
			r, size := utf8.DecodeRuneInString(l.src[l.pos:])
			if r != 0x85 && r != 0xA0 {
				return
			}
			l.pos += size
		default:
			return
		}
	}
}

// str scans a string literal delimited by delim. The escapes \a \b \f \n \r \t \v, \\ and the
// delimiter stand for one character; a backslash before anything else is kept, so "^a\.b$" is
// the text ^a\.b$.
func (l *lexer) str(delim byte) token {
	start := l.pos
	i := start + 1
	// Fast path: no escapes, so the value is a slice of the source.
	for i < len(l.src) && l.src[i] != delim && l.src[i] != '\\' {
		i++
	}
	if i < len(l.src) && l.src[i] == delim {
		l.pos = i + 1
		return token{kind: tokString, off: start, text: l.src[start:l.pos], val: l.src[start+1 : i]}
	}
	var b strings.Builder
	b.WriteString(l.src[start+1 : i])
	for i < len(l.src) {
		c := l.src[i]
		switch {
		case c == delim:
			l.pos = i + 1
			return token{kind: tokString, off: start, text: l.src[start:l.pos], val: b.String()}
		case c != '\\':
			b.WriteByte(c)
			i++
			continue
		}
		if i+1 >= len(l.src) {
			break
		}
		e := l.src[i+1]
		switch e {
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'v':
			b.WriteByte('\v')
		case delim, '\\':
			b.WriteByte(e)
		default:
			b.WriteByte('\\')
			b.WriteByte(e)
		}
		i += 2
	}
	l.pos = len(l.src)
	return token{kind: tokIllegal, off: start, text: l.src[start : start+1], msg: msgUnclosedString}
}

// regexp scans a regexp literal /.../. Only \/ and \\ are unescaped; any other escape is kept
// for the regexp engine. A / inside a [...] class does not end the literal.
func (l *lexer) regexp() token {
	start := l.pos
	var b strings.Builder
	escaped, inClass := false, false
	for i := start + 1; i < len(l.src); i++ {
		c := l.src[i]
		if escaped {
			if c != '/' && c != '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
			escaped = false
			continue
		}
		switch {
		case c == '\\':
			escaped = true
			continue
		case c == '[' && !inClass:
			inClass = true
		case c == ']' && inClass:
			inClass = false
		case c == '/' && !inClass:
			l.pos = i + 1
			return token{kind: tokRegexp, off: start, text: l.src[start:l.pos], val: b.String()}
		}
		b.WriteByte(c)
	}
	l.pos = len(l.src)
	return token{kind: tokIllegal, off: start, text: "/", msg: msgUnclosedRegexp}
}

// number scans an optional minus sign, digits and at most one decimal point, which must be
// followed by a digit. Exponents are not part of the language.
func (l *lexer) number() token {
	start := l.pos
	i := start
	if l.src[i] == '-' {
		i++
	}
	dot := false
	for i < len(l.src) {
		c := l.src[i]
		if c == '.' && !dot {
			dot = true
		} else if !isDigit(c) {
			break
		}
		i++
	}
	l.pos = i
	text := l.src[start:i]
	if text[len(text)-1] == '.' {
		return token{kind: tokIllegal, off: start, text: text, msg: "invalid number " + strconv.Quote(text)}
	}
	n, err := strconv.ParseFloat(text, 64)
	if err != nil && math.IsInf(n, 0) {
		return token{kind: tokIllegal, off: start, text: text, msg: "number out of range " + strconv.Quote(abbreviate(text))}
	}
	return token{kind: tokNumber, off: start, text: text, num: n}
}

func isDigit(c byte) bool       { return c >= '0' && c <= '9' }
func isNumberChar(c byte) bool  { return isDigit(c) || c == '.' }
func isSymbolStart(c byte) bool { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
func isSymbolChar(c byte) bool  { return isSymbolStart(c) || isDigit(c) }

// abbreviate shortens s for an error message.
func abbreviate(s string) string {
	const maxRunes = 40
	if utf8.RuneCountInString(s) <= maxRunes {
		return s
	}
	n := 0
	for i := range s {
		if n == maxRunes {
			return s[:i] + "..."
		}
		n++
	}
	return s
}

// describe names a token in an error message: punctuation and names as quoted text,
// literals with their kind.
func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of input"
	case tokString:
		return "string " + strconv.Quote(abbreviate(t.val))
	case tokRegexp:
		return "regexp /" + abbreviate(t.val) + "/"
	case tokNumber:
		return "number " + abbreviate(t.text)
	}
	return strconv.Quote(abbreviate(t.text))
}

// posTracker turns byte offsets into 1-based line and column numbers, columns counted in
// runes. Offsets asked for in increasing order cost linear time overall.
type posTracker struct {
	src            string
	off, line, col int
}

func newPosTracker(src string) *posTracker { return &posTracker{src: src, line: 1, col: 1} }

func (p *posTracker) at(off int) (line, col int) {
	if off < p.off {
		p.off, p.line, p.col = 0, 1, 1
	}
	for p.off < off && p.off < len(p.src) {
		r, size := utf8.DecodeRuneInString(p.src[p.off:])
		if r == '\n' {
			p.line++
			p.col = 1
		} else {
			p.col++
		}
		p.off += size
	}
	return p.line, p.col
}
