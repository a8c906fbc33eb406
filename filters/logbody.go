package filters

import (
	"io"
	"math"
	"net/http"

	"github.com/sirupsen/logrus"
)

// LogBodyName is the route name of the filter that logs the start of the request's or the
// response's body.
const LogBodyName = "logBody"

type logBodySpec struct{ log logrus.FieldLogger }

type logBodyFilter struct {
	log      logrus.FieldLogger
	response bool
	limit    int
}

var (
	_ Spec           = (*logBodySpec)(nil)
	_ Filter         = (*logBodyFilter)(nil)
	_ ResponseFilter = (*logBodyFilter)(nil)
)

// NewLogBody returns the spec of logBody("request"|"response", limit), which logs, at info
// level to log, the first limit bytes of the request's body, or of the backend's response
// body, as they stream through, one line per read, quoted; the body itself is not held back.
// If log is nil, nothing is logged.
//
// The bodies are logged as they are, unmasked. The request body is the client's: no filter of
// this proxy writes into a body, and the credentials it injects go into headers, so logBody
// cannot log one of them; but whatever secret the client or the backend put in a body is
// logged, so the filter belongs only on routes whose bodies carry none.
func NewLogBody(log logrus.FieldLogger) Spec { return &logBodySpec{log: log} }

func (*logBodySpec) Name() string { return LogBodyName }

func (s *logBodySpec) Create(args []any) (Filter, error) {
	if len(args) != 2 {
		return nil, argsErrorf("%s: want 2 arguments (\"request\" or \"response\", limit), got %d", LogBodyName, len(args))
	}
	f := &logBodyFilter{log: s.log}
	switch args[0] {
	case "request":
	case "response":
		f.response = true
	default:
		return nil, argsErrorf("%s: argument 1 must be \"request\" or \"response\", got %#v", LogBodyName, args[0])
	}
	n, ok := args[1].(float64)
	if !ok || n != math.Trunc(n) || n > math.MaxInt32 {
		return nil, argsErrorf("%s: argument 2 (limit) must be a whole number of bytes, got %#v", LogBodyName, args[1])
	}
	f.limit = int(n)
	if f.log == nil {
		l := logrus.New()
		l.Out = io.Discard
		f.log = l
	}
	return f, nil
}

func (f *logBodyFilter) Request(r *http.Request) error {
	if !f.response && r.Body != nil && f.limit > 0 {
		r.Body = &loggedBody{ReadCloser: r.Body, left: f.limit, log: f.log, what: `logBody("request")`}
	}
	return nil
}

// Response wraps the backend's body; not that of a switch to another protocol, which the
// proxy must reach as it is to tunnel it, nor an answer skipper made without a body stream.
func (f *logBodyFilter) Response(res *http.Response) error {
	if f.response && res.Body != nil && f.limit > 0 && res.StatusCode != http.StatusSwitchingProtocols {
		res.Body = &loggedBody{ReadCloser: res.Body, left: f.limit, log: f.log, what: `logBody("response")`}
	}
	return nil
}

// loggedBody logs what is read through it until left bytes were logged.
type loggedBody struct {
	io.ReadCloser
	left int
	log  logrus.FieldLogger
	what string
}

func (b *loggedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if m := min(n, b.left); m > 0 {
		b.left -= m
		b.log.WithField("filter", LogBodyName).Infof("%s: %q", b.what, p[:m])
	}
	return n, err
}
