package routing

import "strings"

// PrintTable returns defs as Skipper's route listing (its /routes endpoint) prints them, which
// Parse reads back into routes that match the same requests:
//
//   - pretty, each filter and the backend on a line of its own, indented by two blanks, and a
//     blank line between routes; otherwise one route per line;
//   - the predicates in Skipper's order (Path, Host, PathRegexp, Method, Header, HeaderRegexp,
//     then the others as written), with "*" and Any() left out, and "*" alone for a route
//     that has no other predicate;
//   - the arguments of Host and PathRegexp, and the second of HeaderRegexp, as regexp literals
//     /.../, as written or not; every other string as a "..." string.
//
// A single route without an id is printed alone, without ";". The text ends in a newline
// unless there are no routes.
func PrintTable(defs []*RouteDef, pretty bool) string {
	if len(defs) == 0 {
		return ""
	}
	var b strings.Builder
	if len(defs) == 1 && defs[0].ID == "" {
		defs[0].writeTable(&b, pretty)
		b.WriteByte('\n')
		return b.String()
	}
	for i, d := range defs {
		if i > 0 && pretty {
			b.WriteByte('\n')
		}
		b.WriteString(d.ID)
		b.WriteString(": ")
		d.writeTable(&b, pretty)
		b.WriteString(";\n")
	}
	return b.String()
}

// tablePredicateRank is a predicate's place in Skipper's printed order; the rest keep theirs.
var tablePredicateRank = map[string]int{
	"Path": 0, "Host": 1, "PathRegexp": 2, "Method": 3, "Header": 4, "HeaderRegexp": 5,
}

func (d *RouteDef) writeTable(b *strings.Builder, pretty bool) {
	var preds []Call
	for _, c := range d.Predicates {
		if (c.Name != predAny && c.Name != predAnyOld) || len(c.Args) != 0 {
			preds = append(preds, c)
		}
	}
	rank := func(c Call) int {
		if r, ok := tablePredicateRank[c.Name]; ok {
			return r
		}
		return len(tablePredicateRank)
	}
	// A stable insertion sort: routes have a handful of predicates.
	for i := 1; i < len(preds); i++ {
		for j := i; j > 0 && rank(preds[j]) < rank(preds[j-1]); j-- {
			preds[j], preds[j-1] = preds[j-1], preds[j]
		}
	}
	if len(preds) == 0 {
		b.WriteByte('*')
	}
	for i, c := range preds {
		if i > 0 {
			b.WriteString(" && ")
		}
		b.WriteString(c.Name)
		b.WriteByte('(')
		for j, a := range c.Args {
			if j > 0 {
				b.WriteString(", ")
			}
			s, isString := a.(string)
			if isString && printsAsRegexp(c.Name, j) && writeRegexp(b, s) {
				continue
			}
			writeArg(b, a)
		}
		b.WriteByte(')')
	}
	sep := " -> "
	if pretty {
		sep = "\n  -> "
	}
	for _, c := range d.Filters {
		b.WriteString(sep)
		c.write(b)
	}
	b.WriteString(sep)
	d.Backend.write(b)
}

// printsAsRegexp reports whether Skipper prints argument i of predicate name as a regexp.
func printsAsRegexp(name string, i int) bool {
	switch name {
	case "Host", "PathRegexp":
		return true
	case "HeaderRegexp":
		return i == 1
	}
	return false
}

// writeRegexp writes s as a regexp literal /.../ and reports true, if the lexer reads that
// literal back as s. It reports false, writing nothing, for a string that has no such literal
// (the empty string, which "//" cannot be) or that would be hard to read in one (control
// bytes): the caller then writes a "..." string, which means the same.
func writeRegexp(b *strings.Builder, s string) bool {
	if s == "" || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return false
	}
	var lit strings.Builder
	lit.WriteByte('/')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '/':
			lit.WriteString(`\/`)
		case c == '\\' && (i+1 == len(s) || s[i+1] == '\\' || s[i+1] == '/'):
			lit.WriteString(`\\`) // the lexer unescapes \\ and \/ and keeps other escapes
		default:
			lit.WriteByte(c)
		}
	}
	lit.WriteByte('/')
	l := &lexer{src: lit.String()}
	if tok := l.regexp(); tok.kind != tokRegexp || tok.val != s || l.pos != lit.Len() {
		return false
	}
	b.WriteString(lit.String())
	return true
}
