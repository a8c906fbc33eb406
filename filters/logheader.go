package filters

import (
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/sirupsen/logrus"
)

// LogHeaderName is the route name of the filter that logs the request's or the response's
// header.
const LogHeaderName = "logHeader"

// logHeaderMasked is written in place of a credential header's value, Skipper's word for it.
const logHeaderMasked = "TRUNCATED"

type logHeaderSpec struct{ log logrus.FieldLogger }

type logHeaderFilter struct {
	log               logrus.FieldLogger
	request, response bool
}

var (
	_ Spec           = (*logHeaderSpec)(nil)
	_ Filter         = (*logHeaderFilter)(nil)
	_ ResponseFilter = (*logHeaderFilter)(nil)
)

// NewLogHeader returns the spec of logHeader(["request"][, "response"]), which logs, at info
// level to log, the request line and header of each request, or the status line and header of
// each response, or both; without arguments the request's, as in Skipper. Other strings are
// ignored and other arguments are errors, as in Skipper. If log is nil, nothing is logged.
//
// Secrets never reach the log. The request logged is the one the client sent, not the one the
// route's filters made of it, so that the credentials this proxy injects are never in it. In
// what is logged, the value of every header that commonly carries a credential is replaced by
// TRUNCATED (see isCredentialHeader).
func NewLogHeader(log logrus.FieldLogger) Spec { return &logHeaderSpec{log: log} }

func (*logHeaderSpec) Name() string { return LogHeaderName }

func (s *logHeaderSpec) Create(args []any) (Filter, error) {
	f := &logHeaderFilter{log: s.log}
	for i, a := range args {
		v, ok := a.(string)
		if !ok {
			return nil, argsErrorf("%s: argument %d must be \"request\" or \"response\", got %T", LogHeaderName, i+1, a)
		}
		switch strings.ToLower(v) {
		case "request":
			f.request = true
		case "response":
			f.response = true
		}
	}
	if !f.request && !f.response {
		f.request = true
	}
	if f.log == nil {
		l := logrus.New()
		l.Out = io.Discard
		f.log = l
	}
	return f, nil
}

func (f *logHeaderFilter) Request(r *http.Request) error {
	if f.request {
		in := Incoming(r)
		var b strings.Builder
		b.WriteString(in.Method + " " + in.URL.RequestURI() + " " + in.Proto + "\r\nHost: " + in.Host + "\r\n")
		writeMaskedHeader(&b, in.Header)
		f.log.WithField("filter", LogHeaderName).Info(b.String())
	}
	return nil
}

func (f *logHeaderFilter) Response(res *http.Response) error {
	if f.response {
		var b strings.Builder
		b.WriteString(res.Proto + " " + res.Status + "\r\n")
		writeMaskedHeader(&b, res.Header)
		f.log.WithField("filter", LogHeaderName).Info(b.String())
	}
	return nil
}

// writeMaskedHeader writes h in wire form, sorted by name, credentials masked.
func writeMaskedHeader(b *strings.Builder, h http.Header) {
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range h {
			if !yield(k) {
				return
			}
		}
	}) {
		for _, v := range h[k] {
			if isCredentialHeader(k) {
				v = logHeaderMasked
			}
			b.WriteString(k + ": " + v + "\r\n")
		}
	}
}

// credentialWords are the parts of header names that mark a credential: besides the standard
// Authorization, Proxy-Authorization, Cookie and Set-Cookie, the usual API key and token
// headers (X-Api-Key, X-Auth-Token, X-Amz-Security-Token, X-Csrf-Token, X-Goog-Api-Key,
// Ocp-Apim-Subscription-Key, X-Hub-Signature, ...). A header name is compared in lower case.
var credentialWords = []string{"auth", "cookie", "key", "token", "secret", "passw", "session", "signature", "credential"}

// isCredentialHeader reports whether a header of this name may carry a credential. It errs on
// the side of masking: a masked harmless header costs a look elsewhere, a logged secret a
// rotation.
func isCredentialHeader(name string) bool {
	n := strings.ToLower(name)
	for _, w := range credentialWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}
