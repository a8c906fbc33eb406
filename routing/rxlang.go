package routing

import (
	"regexp/syntax"
	"slices"
	"strings"
	"unicode/utf8"
)

// This file reads the syntax tree of a regexp to find out whether it can match only a few
// strings, so that Host predicates such as ^api[.]example[.]org$, ^(api|www)[.]example[.]org$
// or ^api[.]example[.]org(:\d+)?$ can be compared without the regexp engine and found through
// a map, and which literals every match must contain, for the rest.

// maxLitItems bounds the strings enumerated from one regexp; more means "not finite".
const maxLitItems = 64

// portTail describes a part of a regexp that matches only "" or ":" followed by digits, the
// port of a Host.
type portTail uint8

const (
	noPort portTail = iota
	// portOptional is exactly (:[0-9]+)? (also written (:\d+)? or (?::\d+)?).
	portOptional
	// portOther is any other language of "" and ":" plus digits, such as :\d+ or (:\d*)?.
	portOther
)

// litItem is one string of a regexp's language, with what must surround it: begin says the
// string starts the text (^), end that it ends it ($), port that a port tail follows it.
type litItem struct {
	s          string
	begin, end bool
	port       portTail
}

// enumerate returns the strings re matches, as litItems, when they are at most maxLitItems
// and every rune is an ordinary one. Regexps match invalid UTF-8 as U+FFFD, so a literal
// holding U+FFFD is not one fixed string of bytes and is refused, like case folding.
func enumerate(re *syntax.Regexp) ([]litItem, bool) {
	if t := portTailOf(re); t != noPort {
		return []litItem{{port: t}}, true
	}
	switch re.Op {
	case syntax.OpEmptyMatch:
		return []litItem{{}}, true
	case syntax.OpBeginText:
		return []litItem{{begin: true}}, true
	case syntax.OpEndText:
		return []litItem{{end: true}}, true
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 || !plainRunes(re.Rune) {
			return nil, false
		}
		return []litItem{{s: string(re.Rune)}}, true
	case syntax.OpCharClass:
		return enumerateClass(re.Rune)
	case syntax.OpCapture:
		return enumerate(re.Sub[0])
	case syntax.OpQuest:
		sub, ok := enumerate(re.Sub[0])
		return append([]litItem{{}}, sub...), ok && len(sub) < maxLitItems
	case syntax.OpAlternate:
		var out []litItem
		for _, s := range re.Sub {
			sub, ok := enumerate(s)
			if !ok || len(out)+len(sub) > maxLitItems {
				return nil, false
			}
			out = append(out, sub...)
		}
		return out, true
	case syntax.OpConcat:
		return enumerateConcat(re.Sub)
	case syntax.OpRepeat:
		return enumerateRepeat(re)
	}
	return nil, false
}

func plainRunes(rs []rune) bool {
	for _, r := range rs {
		if r == utf8.RuneError || !utf8.ValidRune(r) {
			return false
		}
	}
	return true
}

func enumerateClass(ranges []rune) ([]litItem, bool) {
	n := 0
	for i := 0; i+1 < len(ranges); i += 2 {
		n += int(ranges[i+1]-ranges[i]) + 1
		if n > maxLitItems {
			return nil, false
		}
	}
	out := make([]litItem, 0, n)
	for i := 0; i+1 < len(ranges); i += 2 {
		for r := ranges[i]; r <= ranges[i+1]; r++ {
			if !plainRunes([]rune{r}) {
				return nil, false
			}
			out = append(out, litItem{s: string(r)})
		}
	}
	return out, true
}

func enumerateConcat(subs []*syntax.Regexp) ([]litItem, bool) {
	out := []litItem{{}}
	var one [1]litItem // literals and anchors, without allocating a slice for each
	for _, s := range subs {
		var next []litItem
		switch s.Op {
		case syntax.OpLiteral, syntax.OpBeginText, syntax.OpEndText:
			if s.Op != syntax.OpLiteral {
				one[0] = litItem{begin: s.Op == syntax.OpBeginText, end: s.Op == syntax.OpEndText}
			} else if s.Flags&syntax.FoldCase == 0 && plainRunes(s.Rune) {
				one[0] = litItem{s: string(s.Rune)}
			} else {
				return nil, false
			}
			next = one[:]
		default:
			var ok bool
			if next, ok = enumerate(s); !ok {
				return nil, false
			}
		}
		var ok bool
		if out, ok = concatItems(out, next); !ok {
			return nil, false
		}
	}
	return out, true
}

func enumerateRepeat(re *syntax.Regexp) ([]litItem, bool) {
	if re.Max < 0 || re.Max > 8 {
		return nil, false
	}
	sub, ok := enumerate(re.Sub[0])
	if !ok {
		return nil, false
	}
	var out []litItem
	cur := []litItem{{}}
	for k := 0; k <= re.Max; k++ {
		if k >= re.Min {
			out = append(out, cur...)
		}
		if k < re.Max {
			if cur, ok = concatItems(cur, sub); !ok {
				return nil, false
			}
		}
		if len(out) > maxLitItems {
			return nil, false
		}
	}
	return out, true
}

// concatItems returns every x followed by y. Pairs that can never match (text after $, or
// before ^) are dropped; a port tail followed by more text makes the whole thing unusable.
func concatItems(xs, ys []litItem) ([]litItem, bool) {
	if len(xs)*len(ys) > maxLitItems {
		return nil, false
	}
	var out []litItem
	if len(xs) == 1 {
		out = xs[:0] // x is read before its place is written
	} else {
		out = make([]litItem, 0, len(xs)*len(ys))
	}
	for _, x := range xs {
		for _, y := range ys {
			if x.port != noPort && (y.s != "" || y.port != noPort || y.begin) ||
				y.port != noPort && x.end {
				return nil, false
			}
			if x.end && y.s != "" || y.begin && x.s != "" {
				continue
			}
			out = append(out, litItem{
				s:     x.s + y.s,
				begin: x.begin || x.s == "" && y.begin,
				end:   y.end || y.s == "" && y.port == noPort && x.end,
				port:  x.port | y.port,
			})
		}
	}
	return out, true
}

// portTailOf reports whether re only matches "" or ":" followed by digits, and how.
func portTailOf(re *syntax.Regexp) portTail {
	re = uncapture(re)
	if re.Op == syntax.OpQuest {
		sub := uncapture(re.Sub[0])
		if isColonDigitsPlus(sub) {
			return portOptional
		}
		if isPortRequired(sub) {
			return portOther
		}
		return noPort
	}
	if isPortRequired(re) {
		return portOther
	}
	return noPort
}

func uncapture(re *syntax.Regexp) *syntax.Regexp {
	for re.Op == syntax.OpCapture {
		re = re.Sub[0]
	}
	return re
}

// isColonDigitsPlus reports whether re is ":[0-9]+".
func isColonDigitsPlus(re *syntax.Regexp) bool {
	if re.Op != syntax.OpConcat || len(re.Sub) != 2 {
		return false
	}
	colon, plus := re.Sub[0], uncapture(re.Sub[1])
	return colon.Op == syntax.OpLiteral && string(colon.Rune) == ":" &&
		plus.Op == syntax.OpPlus && isDigitClass(plus.Sub[0])
}

func isDigitClass(re *syntax.Regexp) bool {
	return re.Op == syntax.OpCharClass && len(re.Rune) == 2 && re.Rune[0] == '0' && re.Rune[1] == '9'
}

// isPortRequired reports whether every match of re is ":" followed by digits only: a concat
// starting with a ":digits" literal and going on with digits only.
func isPortRequired(re *syntax.Regexp) bool {
	if re.Op != syntax.OpConcat || len(re.Sub) < 2 {
		return false
	}
	first := re.Sub[0]
	if first.Op != syntax.OpLiteral || len(first.Rune) == 0 || first.Rune[0] != ':' ||
		!digitRunes(first.Rune[1:]) {
		return false
	}
	for _, s := range re.Sub[1:] {
		if !digitsOnly(s) {
			return false
		}
	}
	return true
}

func digitRunes(rs []rune) bool {
	for _, r := range rs {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// digitsOnly reports whether every match of re consists of ASCII digits only.
func digitsOnly(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpEmptyMatch:
		return true
	case syntax.OpLiteral:
		return digitRunes(re.Rune)
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if re.Rune[i] < '0' || re.Rune[i+1] > '9' {
				return false
			}
		}
		return true
	case syntax.OpCapture, syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat,
		syntax.OpConcat, syntax.OpAlternate:
		for _, s := range re.Sub {
			if !digitsOnly(s) {
				return false
			}
		}
		return true
	}
	return false
}

// exactKeys returns host index keys for a regexp that is anchored at both ends and matches
// few strings, optionally followed by a port: every host it matches has hostKey(host) among
// the keys. ok is false for any other regexp.
func exactKeys(items []litItem) (keys []string, ok bool) {
	for _, it := range items {
		if !it.begin || !it.end {
			return nil, false
		}
		keys = append(keys, hostKey(it.s))
		if it.port != noPort {
			keys = append(keys, it.s)
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys), true
}

// hostKey is the key under which the host index files a request host: the host without a
// trailing ":digits" port. Any function would do as long as indexing and lookup agree; this
// one lets ^a[.]b$ and ^a[.]b(:\d+)?$ share the key of "a.b" and "a.b:8080".
func hostKey(h string) string {
	for i := len(h) - 1; i >= 0; i-- {
		switch c := h[i]; {
		case c == ':':
			return h[:i]
		case c < '0' || c > '9':
			return h
		}
	}
	return h
}

// requiredLiterals serves regexps that exactKeys cannot: it returns alternatives such that a
// text the regexp matches contains, for at least one alternative, every literal listed in it.
// The index needs just one literal per alternative and may pick whichever is rarest. ok is
// false when some way to match requires no literal at all. items and finite are what
// enumerate(re) returns.
func requiredLiterals(re *syntax.Regexp, items []litItem, finite bool) (alts [][]string, ok bool) {
	if finite {
		for _, it := range items {
			if it.s == "" {
				return nil, false
			}
			alts = append(alts, []string{it.s})
		}
		return alts, true
	}
	re = uncapture(re)
	if re.Op == syntax.OpAlternate {
		for _, s := range re.Sub {
			items, finite := enumerate(s)
			sub, ok := requiredLiterals(s, items, finite)
			if !ok {
				return nil, false
			}
			alts = append(alts, sub...)
		}
		return alts, len(alts) <= maxLitItems
	}
	lits := mustContain(re)
	if len(lits) == 0 {
		return nil, false
	}
	return [][]string{lits}, true
}

// mustContain returns literals that every match of re contains.
func mustContain(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase == 0 && plainRunes(re.Rune) {
			return []string{string(re.Rune)}
		}
	case syntax.OpCapture, syntax.OpPlus:
		return mustContain(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return mustContain(re.Sub[0])
		}
	case syntax.OpConcat:
		var out []string
		for _, s := range re.Sub {
			out = append(out, mustContain(s)...)
		}
		return out
	}
	return nil
}

// quickItems is enumerate for the plainest regexps, without the cost of regexp/syntax (most of
// the memory of compiling 100,000 host routes): an optional ^, then plain characters, \. or
// \-, one-character classes like [.], and groups (a|b) or (?:a|b) of those, then optionally
// one of the port tails (:\d+)?, (?::\d+)?, (:[0-9]+)? or (?::[0-9]+)?, then an optional $.
// For anything else ok is false, and the caller parses the regexp properly.
func quickItems(expr string) (items []litItem, ok bool) {
	begin := strings.HasPrefix(expr, "^")
	if begin {
		expr = expr[1:]
	}
	end := strings.HasSuffix(expr, "$") && !strings.HasSuffix(expr, `\$`)
	if end {
		expr = expr[:len(expr)-1]
	}
	port := noPort
	for _, tail := range []string{`(:\d+)?`, `(?::\d+)?`, `(:[0-9]+)?`, `(?::[0-9]+)?`} {
		if strings.HasSuffix(expr, tail) {
			expr, port = expr[:len(expr)-len(tail)], portOptional
			break
		}
	}
	strs := []string{""}
	for expr != "" {
		var alts []string
		if alts, expr, ok = quickPiece(expr); !ok || len(strs)*len(alts) > maxLitItems {
			return nil, false
		}
		next := make([]string, 0, len(strs)*len(alts))
		for _, s := range strs {
			for _, a := range alts {
				next = append(next, s+a)
			}
		}
		strs = next
	}
	items = make([]litItem, len(strs))
	for i, s := range strs {
		items[i] = litItem{s: s, begin: begin, end: end, port: port}
	}
	return items, true
}

// quickPiece reads a run of plain characters, or one group, from the start of expr.
func quickPiece(expr string) (alts []string, rest string, ok bool) {
	if !strings.HasPrefix(expr, "(") {
		s, rest := quickRun(expr)
		return []string{s}, rest, s != "" || rest == ""
	}
	expr = strings.TrimPrefix(strings.TrimPrefix(expr, "("), "?:")
	for {
		s, rest := quickRun(expr)
		alts = append(alts, s)
		switch {
		case strings.HasPrefix(rest, "|"):
			expr = rest[1:]
		case strings.HasPrefix(rest, ")"):
			return alts, rest[1:], true
		default:
			return nil, "", false
		}
	}
}

// quickRun reads plain characters, \. \- and [c] from the start of expr.
func quickRun(expr string) (lit, rest string) {
	var b []byte
	for expr != "" {
		c := expr[0]
		switch {
		case len(expr) >= 2 && c == '\\' && (expr[1] == '.' || expr[1] == '-'):
			b, expr = append(b, expr[1]), expr[2:]
		case len(expr) >= 3 && c == '[' && expr[2] == ']' && quickClassChar(expr[1]):
			b, expr = append(b, expr[1]), expr[3:]
		case c >= 0x20 && c < 0x7f && !strings.ContainsRune(`\.+*?()|[]{}^$`, rune(c)):
			b, expr = append(b, c), expr[1:]
		default:
			return string(b), expr
		}
	}
	return string(b), ""
}

func quickClassChar(c byte) bool {
	return c == '.' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
