package routing

import (
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
)

// textMode says how a textMatcher compares.
type textMode uint8

const (
	modeRegexp    textMode = iota
	modeExact              // ^literal$
	modePrefix             // ^literal
	modeSuffix             // literal$
	modeContains           // literal
	modeOneOf              // ^(a|b|...)$: one of a few strings
	modeOneOfPort          // ^(a|b|...)(:[0-9]+)?$: one of a few strings, optionally with a port
)

// maxOneOf bounds the strings a modeOneOf matcher compares one by one.
const maxOneOf = 16

// textMatcher matches strings against a regexp, using plain string comparisons when the
// regexp is only a literal with optional ^ and $ anchors, as most Host predicates are
// (`^api[.]github[.]com$`), or one of a few such literals with an optional port. The result
// is the same as the regexp's; it is only faster, and the regexp is then not even compiled.
type textMatcher struct {
	mode textMode
	lit  string
	set  []string
	rx   *regexp.Regexp // only in modeRegexp
}

func newTextMatcher(expr string) (textMatcher, error) {
	m, _, err := compileText(expr)
	return m, err
}

// textAnalysis is what compileText learned about a regexp: its syntax tree, and the strings
// it matches when they are few (finite).
type textAnalysis struct {
	re     *syntax.Regexp
	items  []litItem
	finite bool
}

// compileText builds a textMatcher and also returns what it learned about expr, for the host
// index.
func compileText(expr string) (textMatcher, textAnalysis, error) {
	if items, ok := quickItems(expr); ok {
		a := textAnalysis{items: items, finite: true}
		if m, ok := literalMatcher(a); ok {
			return m, a, nil
		}
	}
	// regexp.Compile parses with the same flags, and only parsing can fail.
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return textMatcher{}, textAnalysis{}, err
	}
	a := textAnalysis{re: re}
	a.items, a.finite = enumerate(re)
	if m, ok := literalMatcher(a); ok {
		return m, a, nil
	}
	rx, err := regexp.Compile(expr)
	if err != nil {
		return textMatcher{}, textAnalysis{}, err
	}
	return textMatcher{rx: rx}, a, nil
}

// literalMatcher returns a matcher that needs no regexp engine, if the regexp allows one.
func literalMatcher(a textAnalysis) (textMatcher, bool) {
	items := a.items
	if !a.finite {
		return textMatcher{}, false
	}
	if len(items) == 1 && items[0].port == noPort {
		it := items[0]
		m := textMatcher{lit: it.s}
		switch {
		case it.begin && it.end:
			m.mode = modeExact
		case it.begin:
			m.mode = modePrefix
		case it.end:
			m.mode = modeSuffix
		default:
			m.mode = modeContains
		}
		return m, true
	}
	if len(items) > maxOneOf {
		return textMatcher{}, false
	}
	port := noPort
	if len(items) > 0 {
		port = items[0].port
	}
	set := make([]string, 0, len(items))
	for _, it := range items {
		if !it.begin || !it.end || it.port != port || port == portOther {
			return textMatcher{}, false
		}
		set = append(set, it.s)
	}
	slices.Sort(set)
	m := textMatcher{mode: modeOneOf, set: slices.Compact(set)}
	if port == portOptional {
		m.mode = modeOneOfPort
	}
	return m, true
}

func (m *textMatcher) match(s string) bool {
	switch m.mode {
	case modeExact:
		return s == m.lit
	case modePrefix:
		return strings.HasPrefix(s, m.lit)
	case modeSuffix:
		return strings.HasSuffix(s, m.lit)
	case modeContains:
		return strings.Contains(s, m.lit)
	case modeOneOf:
		return contains(m.set, s)
	case modeOneOfPort:
		if contains(m.set, s) {
			return true
		}
		h, ok := withoutPort(s)
		return ok && contains(m.set, h)
	}
	return m.rx.MatchString(s)
}

// withoutPort returns s without a final ":" and one or more digits; ok is false if s does
// not end in such a port.
func withoutPort(s string) (host string, ok bool) {
	i := len(s) - 1
	for i >= 0 && s[i] >= '0' && s[i] <= '9' {
		i--
	}
	if i < 0 || i == len(s)-1 || s[i] != ':' {
		return "", false
	}
	return s[:i], true
}
