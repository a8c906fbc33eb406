package filters

import (
	"net/http"
	"strings"
)

// Route names of the deprecated filters Skipper still registers, each served here by the
// filter that replaced it.
const (
	RequestHeaderName      = "requestHeader"
	ResponseHeaderName     = "responseHeader"
	RequestCopyHeaderName  = "requestCopyHeader"
	ResponseCopyHeaderName = "responseCopyHeader"
	AccessLogDisabledName  = "accessLogDisabled"
	RedirectName           = "redirect"
	HealthCheckName        = "healthcheck"
)

// aliasSpec serves a deprecated name with the spec that replaced it; its argument errors
// name the route's filter, not the replacement. literal, for requestHeader and
// responseHeader, keeps the value as written: those predate placeholders.
type aliasSpec struct {
	name    string
	spec    Spec
	literal bool
}

var _ Spec = (*aliasSpec)(nil)

// NewDeprecatedSpecs returns the specs of Skipper's deprecated filter names:
// requestHeader(name, value) and responseHeader(name, value), which add a header value as
// appendRequestHeader and appendResponseHeader do but with no placeholders;
// requestCopyHeader and responseCopyHeader, which are copyRequestHeader and
// copyResponseHeader; accessLogDisabled("true"|"false"), which is disableAccessLog() or
// enableAccessLog(); redirect(code[, location]) (see NewRedirect); and healthcheck(), an
// undocumented status(200) that ignores its arguments.
func NewDeprecatedSpecs() []Spec {
	return []Spec{
		&aliasSpec{name: RequestHeaderName, spec: NewAppendRequestHeader(), literal: true},
		&aliasSpec{name: ResponseHeaderName, spec: NewAppendResponseHeader(), literal: true},
		&aliasSpec{name: RequestCopyHeaderName, spec: NewCopyRequestHeader()},
		&aliasSpec{name: ResponseCopyHeaderName, spec: NewCopyResponseHeader()},
		accessLogDisabledSpec{},
		NewRedirect(),
		healthCheckSpec{},
	}
}

func (s *aliasSpec) Name() string { return s.name }

func (s *aliasSpec) Create(args []any) (Filter, error) {
	f, err := s.spec.Create(args)
	if err != nil {
		return nil, argsErrorf("%s: %s", s.name, strings.TrimPrefix(err.Error(), s.spec.Name()+": "))
	}
	if s.literal {
		switch f := f.(type) {
		case *requestHeaderFilter:
			f.value = template{raw: f.value.raw}
		case *appendResponseHeaderFilter:
			f.value = template{raw: f.value.raw}
		}
	}
	return f, nil
}

type accessLogDisabledSpec struct{}

func (accessLogDisabledSpec) Name() string { return AccessLogDisabledName }

// Create takes "true", which is disableAccessLog(), or "false", which is enableAccessLog().
func (accessLogDisabledSpec) Create(args []any) (Filter, error) {
	if len(args) == 1 {
		switch args[0] {
		case "true":
			return &accessLogFilter{}, nil
		case "false":
			return &accessLogFilter{sw: AccessLogSwitch{enable: true}}, nil
		}
	}
	return nil, argsErrorf("%s: want 1 argument, \"true\" or \"false\"", AccessLogDisabledName)
}

type redirectSpec struct{}

type redirectFilter struct{ to *redirectToFilter }

var (
	_ Spec           = redirectSpec{}
	_ ResponseFilter = (*redirectFilter)(nil)
)

// NewRedirect returns the spec of Skipper's deprecated redirect(code[, location]). Unlike
// redirectTo, which it predates, it calls the backend and then answers with the redirect in
// place of the backend's response: status code, Location built as redirectTo builds it, and
// nothing else of the backend's answer.
func NewRedirect() Spec { return redirectSpec{} }

func (redirectSpec) Name() string { return RedirectName }

func (redirectSpec) Create(args []any) (Filter, error) {
	f, err := newRedirectTo(args)
	if err != nil {
		return nil, argsErrorf("%s: %s", RedirectName, strings.TrimPrefix(err.Error(), RedirectToName+": "))
	}
	return &redirectFilter{to: f}, nil
}

func (*redirectFilter) Request(*http.Request) error { return nil }

func (f *redirectFilter) Response(res *http.Response) error {
	res.StatusCode, res.Status = f.to.code, ""
	res.Header = make(http.Header)
	if res.Request != nil {
		res.Header["Location"] = f.to.Request(res.Request).(*Reply).Header["Location"]
	}
	replaceBody(res, "")
	return nil
}

type healthCheckSpec struct{}

func (healthCheckSpec) Name() string { return HealthCheckName }

func (healthCheckSpec) Create([]any) (Filter, error) {
	return &statusFilter{code: http.StatusOK}, nil
}
