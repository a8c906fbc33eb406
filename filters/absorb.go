package filters

import (
	"io"
	"math/rand/v2"
	"net/http"

	"github.com/sirupsen/logrus"
)

// Route names of the filters that read and drop the request body.
const (
	AbsorbName       = "absorb"
	AbsorbSilentName = "absorbSilent"
)

type absorbSpec struct {
	silent bool
	log    logrus.FieldLogger
}

type absorbFilter struct {
	silent bool
	log    logrus.FieldLogger
}

var (
	_ Spec           = (*absorbSpec)(nil)
	_ ResponseFilter = (*absorbFilter)(nil)
)

// NewAbsorb returns the spec of absorb(), which, as Skipper's, reads the request body to its
// end, drops it, and answers 200 with an empty body; the backend is not called. It logs, at
// info level to log, the request's arrival, the bytes it read and its end, under the request's
// X-Flow-Id or a new id, and any read error. If log is nil, nothing is logged.
func NewAbsorb(log logrus.FieldLogger) Spec { return &absorbSpec{log: log} }

// NewAbsorbSilent returns the spec of absorbSilent(), absorb that logs only read errors.
func NewAbsorbSilent(log logrus.FieldLogger) Spec { return &absorbSpec{silent: true, log: log} }

func (s *absorbSpec) Name() string {
	if s.silent {
		return AbsorbSilentName
	}
	return AbsorbName
}

// Create ignores arguments, as Skipper does.
func (s *absorbSpec) Create([]any) (Filter, error) {
	f := &absorbFilter{silent: s.silent, log: s.log}
	if f.log == nil {
		l := logrus.New()
		l.Out = io.Discard
		f.log = l
	}
	return f, nil
}

func (f *absorbFilter) Request(r *http.Request) error {
	id := firstValue(r.Header, headerFlowID)
	if id == "" {
		var b [8]byte
		for i := range b {
			b[i] = flowIDAlphabet[rand.IntN(len(flowIDAlphabet))]
		}
		id = string(b[:])
	}
	log := f.log.WithField("filter", AbsorbName)
	if !f.silent {
		log.Infof("received request to be absorbed: %s", id)
	}
	var n int64
	var err error
	if r.Body != nil {
		n, err = io.Copy(io.Discard, r.Body)
	}
	if err != nil {
		log.Infof("request %s, error while consuming request: %v", id, err)
	}
	if !f.silent {
		log.Infof("request %s, consumed bytes: %d", id, n)
		log.Infof("request finished: %s", id)
	}
	return &Reply{Status: http.StatusOK}
}

// Response gives the filter's own answer its empty body.
func (f *absorbFilter) Response(res *http.Response) error {
	res.Body = http.NoBody
	res.ContentLength = 0
	if res.Header == nil {
		res.Header = make(http.Header)
	}
	res.Header.Set("Content-Length", "0")
	return nil
}
