package routing

import (
	"fmt"
	"strconv"
	"strings"
)

// Print returns defs as an eskip document that Parse reads back into equal RouteDefs (File,
// Line and Col aside): one route per line, each ending in ";". A single route without an id is
// printed alone, without ";", the only way eskip allows it. Routes built in code must keep to
// what Parse can produce: ids and names made of letters, digits and "_", string or float64
// arguments, finite numbers.
func Print(defs []*RouteDef) string {
	if len(defs) == 1 && defs[0].ID == "" {
		return defs[0].String() + "\n"
	}
	var b strings.Builder
	for _, d := range defs {
		d.write(&b)
		b.WriteString(";\n")
	}
	return b.String()
}

// String returns the route in eskip syntax on one line, without a trailing ";":
// `id: Pred(args) && ... -> filter(args) -> ... -> backend`, or without "id: " when the id is
// empty.
func (d *RouteDef) String() string {
	var b strings.Builder
	d.write(&b)
	return b.String()
}

func (d *RouteDef) write(b *strings.Builder) {
	if d.ID != "" {
		b.WriteString(d.ID)
		b.WriteString(": ")
	}
	if len(d.Predicates) == 0 {
		// Every route needs a predicate; a route built without one matches everything.
		b.WriteByte('*')
	}
	for i, c := range d.Predicates {
		if i > 0 {
			b.WriteString(" && ")
		}
		c.write(b)
	}
	for _, c := range d.Filters {
		b.WriteString(" -> ")
		c.write(b)
	}
	b.WriteString(" -> ")
	d.Backend.write(b)
}

// String returns the call in eskip syntax, such as `Path("/x")`, or `*` for the catch-all
// predicate.
func (c Call) String() string {
	var b strings.Builder
	c.write(&b)
	return b.String()
}

func (c Call) write(b *strings.Builder) {
	if c.Name == "*" && len(c.Args) == 0 {
		b.WriteByte('*')
		return
	}
	b.WriteString(c.Name)
	b.WriteByte('(')
	for i, a := range c.Args {
		if i > 0 {
			b.WriteString(", ")
		}
		writeArg(b, a)
	}
	b.WriteByte(')')
}

// String returns the backend in eskip syntax.
func (bd BackendDef) String() string {
	var b strings.Builder
	bd.write(&b)
	return b.String()
}

func (bd BackendDef) write(b *strings.Builder) {
	switch bd.Type {
	case BackendShunt:
		b.WriteString(textShunt)
	case BackendLoopback:
		b.WriteString(textLoopback)
	case BackendDynamic:
		b.WriteString(textDynamic)
	case BackendForward:
		b.WriteString(textForward)
	case BackendLB:
		b.WriteByte('<')
		if bd.Algorithm != "" {
			b.WriteString(bd.Algorithm)
			b.WriteString(", ")
		}
		for i, e := range bd.Endpoints {
			if i > 0 {
				b.WriteString(", ")
			}
			writeString(b, e)
		}
		b.WriteByte('>')
	default:
		writeString(b, bd.Address)
	}
}

func writeArg(b *strings.Builder, a any) {
	switch v := a.(type) {
	case string:
		writeString(b, v)
	case float64:
		b.WriteString(strconv.FormatFloat(v, 'f', -1, 64))
	case int:
		b.WriteString(strconv.Itoa(v))
	case fmt.Stringer:
		writeString(b, v.String())
	default:
		writeString(b, fmt.Sprint(v))
	}
}

// writeString writes s as a double-quoted eskip string. Parse maps every escape used here
// back to the original byte; all other bytes are written as they are.
func writeString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\a':
			b.WriteString(`\a`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\v':
			b.WriteString(`\v`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}
