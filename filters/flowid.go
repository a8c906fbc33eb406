package filters

import (
	"math/rand/v2"
	"net/http"
	"strings"
)

// FlowIDName is the route name of the filter that gives a request an X-Flow-Id.
const FlowIDName = "flowId"

// headerFlowID is the header that carries a request's flow id.
const headerFlowID = "X-Flow-Id"

// flowIDAlphabet holds the 64 characters of a flow id, as Skipper's.
const flowIDAlphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-+"

type flowIDSpec struct{}

type flowIDFilter struct{ reuse bool }

var (
	_ Spec   = (*flowIDSpec)(nil)
	_ Filter = (*flowIDFilter)(nil)
)

// NewFlowID returns the spec of flowId(["reuse"]), which, as Skipper's, sets X-Flow-Id on the
// request to a new random id of 16 characters (letters, digits, '-' and '+'); with "reuse"
// (any case) a flow id the client sent is kept when it is 8 to 64 such characters. Arguments
// past the first are ignored, as by Skipper.
func NewFlowID() Spec { return &flowIDSpec{} }

func (*flowIDSpec) Name() string { return FlowIDName }

func (*flowIDSpec) Create(args []any) (Filter, error) {
	f := &flowIDFilter{}
	if len(args) > 0 {
		s, ok := args[0].(string)
		if !ok {
			return nil, argsErrorf("%s: argument 1 must be a string (\"reuse\"), got %T", FlowIDName, args[0])
		}
		f.reuse = strings.EqualFold(s, "reuse")
	}
	return f, nil
}

func (f *flowIDFilter) Request(r *http.Request) error {
	if r.Header == nil {
		r.Header = make(http.Header)
	}
	if f.reuse && validFlowID(firstValue(r.Header, headerFlowID)) {
		return nil
	}
	var id [16]byte
	for i := range id {
		id[i] = flowIDAlphabet[rand.IntN(len(flowIDAlphabet))]
	}
	r.Header[headerFlowID] = []string{string(id[:])}
	return nil
}

// validFlowID reports whether id is 8 to 64 characters of flowIDAlphabet.
func validFlowID(id string) bool {
	if len(id) < 8 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !strings.Contains(flowIDAlphabet, id[i:i+1]) {
			return false
		}
	}
	return true
}
