package routing

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// SyntaxError is the error Parse returns for route text that is not valid eskip, or that breaks
// one of the rules eskip applies to a whole document (two Path predicates in one route, mixed
// schemes in a load-balanced backend). Line and Col are 1-based; Col counts characters.
type SyntaxError struct {
	File      string
	Line, Col int
	Msg       string
}

// Error returns "file:line:col: msg", or "line:col: msg" when File is empty.
func (e *SyntaxError) Error() string {
	if e.File == "" {
		return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// Parse reads route text in Skipper's eskip language and returns its routes in document order.
// file names the source in errors and in each RouteDef; it may be empty. Empty text, or text of
// only blanks and comments, is a valid document with no routes. Any error is a *SyntaxError,
// and then no routes are returned: one bad route spoils the whole document, as in Skipper.
//
// Parse checks syntax and the document-level rules only; whether predicates, filters and
// backends exist and accept their arguments is for Compile.
func Parse(file, src string) ([]*RouteDef, error) {
	p := &parser{file: file, lx: lexer{src: src}, pos: newPosTracker(src)}
	p.advance()
	defs, err := p.document()
	if err != nil {
		return nil, err
	}
	if p.ruleErr != nil {
		return nil, p.ruleErr
	}
	return defs, nil
}

// parser is a recursive-descent parser over the lexer's tokens.
type parser struct {
	file    string
	lx      lexer
	tok     token
	prev    token // the token before tok
	pos     *posTracker
	routeID string       // id of the route being parsed, for messages
	ruleErr *SyntaxError // first document-rule violation; reported only if the syntax is fine
}

func (p *parser) advance() { p.prev, p.tok = p.tok, p.lx.next() }

// peek returns the token after the current one without consuming anything.
func (p *parser) peek() token {
	l := p.lx
	return l.next()
}

// errAt builds a SyntaxError at byte offset off, naming the current route when known.
func (p *parser) errAt(off int, format string, args ...any) *SyntaxError {
	line, col := p.pos.at(off)
	msg := fmt.Sprintf(format, args...)
	if p.routeID != "" {
		msg = fmt.Sprintf("route %q: %s", p.routeID, msg)
	}
	return &SyntaxError{File: p.file, Line: line, Col: col, Msg: msg}
}

// unexpected reports the current token where what was expected.
func (p *parser) unexpected(what string) *SyntaxError {
	switch {
	case p.swallowedByString():
		return p.unclosed(p.prev.off, msgUnclosedString)
	case p.tok.kind == tokIllegal && (p.tok.msg == msgUnclosedString || p.tok.msg == msgUnclosedRegexp):
		return p.unclosed(p.tok.off, p.tok.msg)
	case p.tok.kind == tokIllegal && p.tok.msg != "":
		return p.errAt(p.tok.off, "%s", p.tok.msg)
	}
	return p.errAt(p.tok.off, "expected %s, found %s", what, p.tok.describe())
}

// unclosed reports a string or regexp that starts at off and is not closed.
func (p *parser) unclosed(off int, format string) *SyntaxError {
	line, col := p.pos.at(off)
	return p.errAt(off, format, line, col)
}

// swallowedByString reports whether the unexpected token most likely follows a string that was
// not closed, whose quote the lexer paired with the opening quote of the next string:
// f("a) -> g("b") reads as the string "a) -> g(" followed by b. The unexpected token then
// touches the closing quote, and the string holds route syntax or blanks.
func (p *parser) swallowedByString() bool {
	s := p.prev
	if s.kind != tokString || p.tok.off != s.off+len(s.text) || p.tok.kind == tokEOF {
		return false
	}
	return strings.ContainsAny(s.val, "(),; \t\n") || strings.Contains(s.val, "->") || strings.Contains(s.val, "&&")
}

// document parses either a list of "id: route" separated by semicolons, or one route without
// an id that is the whole document.
func (p *parser) document() ([]*RouteDef, error) {
	switch {
	case p.tok.kind == tokEOF:
		return nil, nil
	case p.tok.kind == tokSemicolon, p.tok.kind == tokSymbol && p.peek().kind != tokOpenParen:
		// A name not followed by "(" can only be a route id ("my-route" fails at the "-").
		return p.routes()
	}
	def, err := p.route(p.tok.off)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokEOF {
		return nil, p.unexpected("end of input after a route without id")
	}
	return []*RouteDef{def}, nil
}

func (p *parser) routes() ([]*RouteDef, error) {
	var defs []*RouteDef
	for {
		for p.tok.kind == tokSemicolon {
			p.advance()
		}
		if p.tok.kind == tokEOF {
			return defs, nil
		}
		if p.tok.kind != tokSymbol {
			return nil, p.unexpected("route id")
		}
		id, start := p.tok.text, p.tok.off
		p.advance()
		if p.tok.kind != tokColon {
			return nil, p.unexpected(fmt.Sprintf("\":\" after route id %q", id))
		}
		p.advance()
		p.routeID = id
		def, err := p.route(start)
		if err != nil {
			return nil, err
		}
		def.ID = id
		defs = append(defs, def)
		if p.tok.kind != tokSemicolon && p.tok.kind != tokEOF {
			return nil, p.unexpected(`";" or end of input`)
		}
		p.routeID = ""
	}
}

// route parses predicates -> [filters ->] backend. start is where the route's text begins.
func (p *parser) route(start int) (*RouteDef, error) {
	def := &RouteDef{File: p.file}
	def.Line, def.Col = p.pos.at(start)
	var predOffs []int
	for {
		predOffs = append(predOffs, p.tok.off)
		c, err := p.predicate()
		if err != nil {
			return nil, err
		}
		def.Predicates = append(def.Predicates, c)
		if p.tok.kind != tokAnd {
			break
		}
		p.advance()
	}
	if p.tok.kind != tokArrow {
		return nil, p.unexpected(`"->" or "&&"`)
	}
	p.advance()
	for p.tok.kind == tokSymbol {
		c, err := p.call("filter")
		if err != nil {
			return nil, err
		}
		def.Filters = append(def.Filters, c)
		if p.tok.kind != tokArrow {
			return nil, p.unexpected(`"->"`)
		}
		p.advance()
	}
	endpointOffs, err := p.backend(&def.Backend)
	if err != nil {
		return nil, err
	}
	p.checkPredicates(def.Predicates, predOffs)
	p.checkEndpoints(def.Backend.Endpoints, endpointOffs)
	return def, nil
}

func (p *parser) predicate() (Call, error) {
	switch p.tok.kind {
	case tokAny:
		p.advance()
		return Call{Name: "*"}, nil
	case tokSymbol:
		return p.call("predicate")
	}
	return Call{}, p.unexpected("predicate")
}

// call parses name(args); what is "predicate" or "filter", for messages.
func (p *parser) call(what string) (Call, error) {
	c := Call{Name: p.tok.text}
	p.advance()
	if p.tok.kind != tokOpenParen {
		return Call{}, p.unexpected(fmt.Sprintf("\"(\" after %s name %q", what, c.Name))
	}
	p.advance()
	if p.tok.kind == tokCloseParen {
		p.advance()
		return c, nil
	}
	for {
		switch p.tok.kind {
		case tokNumber:
			c.Args = append(c.Args, p.tok.num)
		case tokString, tokRegexp:
			c.Args = append(c.Args, p.tok.val)
		default:
			return Call{}, p.unexpected("argument (string, regexp or number)")
		}
		p.advance()
		switch p.tok.kind {
		case tokComma:
			p.advance()
		case tokCloseParen:
			p.advance()
			return c, nil
		default:
			return Call{}, p.unexpected(`"," or ")"`)
		}
	}
}

// backend parses a backend into b and returns the offsets of load-balancer endpoints.
func (p *parser) backend(b *BackendDef) ([]int, error) {
	switch p.tok.kind {
	case tokString:
		b.Type, b.Address = BackendNetwork, p.tok.val
	case tokShunt:
		b.Type = BackendShunt
	case tokLoopback:
		b.Type = BackendLoopback
	case tokDynamic:
		b.Type = BackendDynamic
	case tokForward:
		b.Type = BackendForward
	case tokOpenAngle:
		return p.lbBackend(b)
	default:
		return nil, p.unexpected("filter or backend")
	}
	p.advance()
	return nil, nil
}

// lbBackend parses <"url", ...> or <algorithm, "url", ...>.
func (p *parser) lbBackend(b *BackendDef) ([]int, error) {
	b.Type = BackendLB
	open := p.tok.off
	p.advance()
	if p.tok.kind == tokSymbol {
		b.Algorithm = p.tok.text
		p.advance()
		if p.tok.kind == tokCloseAngle {
			return nil, p.unknownAngleBackend(open, b.Algorithm)
		}
		if p.tok.kind != tokComma {
			return nil, p.unexpected(`"," after load balancer algorithm`)
		}
		p.advance()
	}
	var offs []int
	for {
		if p.tok.kind != tokString {
			return nil, p.unexpected("endpoint URL string")
		}
		b.Endpoints = append(b.Endpoints, p.tok.val)
		offs = append(offs, p.tok.off)
		p.advance()
		switch p.tok.kind {
		case tokComma:
			p.advance()
		case tokCloseAngle:
			p.advance()
			return offs, nil
		default:
			return nil, p.unexpected(`"," or ">"`)
		}
	}
}

// unknownAngleBackend reports <name> at off, which is no backend: a misspelt keyword, a
// keyword written with blanks, or a load balancer without endpoints.
func (p *parser) unknownAngleBackend(off int, name string) *SyntaxError {
	for _, kw := range []string{textShunt, textLoopback, textDynamic, textForward} {
		if kw == "<"+name+">" {
			return p.errAt(off, "write %s without blanks", kw)
		}
	}
	return p.errAt(off, "unknown backend <%s>: the backends in angle brackets are %s, %s, %s, %s and <algorithm, \"url\", ...>",
		name, textShunt, textLoopback, textDynamic, textForward)
}

// rule records a document-rule violation at off unless an earlier one is recorded.
func (p *parser) rule(off int, format string, args ...any) {
	if p.ruleErr == nil {
		p.ruleErr = p.errAt(off, format, args...)
	}
}

// checkPredicates applies the rules Skipper's parser applies to the built-in predicates: the
// right number of string arguments, at most one Path and one Method, no Header name twice.
func (p *parser) checkPredicates(preds []Call, offs []int) {
	var path, method bool
	headers := map[string]bool{}
	for i, c := range preds {
		want := 0
		switch c.Name {
		case "Path", "Host", "PathRegexp", "Method":
			want = 1
		case "Header", "HeaderRegexp":
			want = 2
		default:
			continue
		}
		if !allStrings(c.Args, want) {
			p.rule(offs[i], "%s predicate expects %s", c.Name, countStrings(want))
			continue
		}
		switch c.Name {
		case "Path":
			if path {
				p.rule(offs[i], "duplicate Path predicate")
			}
			path = true
		case "Method":
			if method {
				p.rule(offs[i], "duplicate Method predicate")
			}
			method = true
		case "Header":
			name := c.Args[0].(string)
			if headers[name] {
				p.rule(offs[i], "duplicate Header predicate for %q", name)
			}
			headers[name] = true
		}
	}
}

var errLBEndpoint = errors.New("invalid load balancer endpoint")

// checkEndpoints requires load-balancer endpoints to be absolute URLs with one shared scheme.
func (p *parser) checkEndpoints(endpoints []string, offs []int) {
	scheme := ""
	for i, e := range endpoints {
		if v, ok := withHTTP(e); ok {
			p.rule(offs[i], "%v", noSchemeError(errLBEndpoint, e, v))
			return
		}
		u, err := url.ParseRequestURI(e)
		if err != nil {
			p.rule(offs[i], "%v %s", errLBEndpoint, strconv.Quote(abbreviate(e)))
			return
		}
		if i > 0 && u.Scheme != scheme {
			p.rule(offs[i], "load balancer endpoints have mixed schemes %q and %q", scheme, u.Scheme)
			return
		}
		scheme = u.Scheme
	}
}

func allStrings(args []any, n int) bool {
	if len(args) != n {
		return false
	}
	for _, a := range args {
		if _, ok := a.(string); !ok {
			return false
		}
	}
	return true
}

func countStrings(n int) string {
	if n == 1 {
		return "1 string argument"
	}
	return fmt.Sprintf("%d string arguments", n)
}
