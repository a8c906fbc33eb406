package filters

import (
	"math"
	"net/http"
)

// StatusName is the route name of the filter that sets the response status.
const StatusName = "status"

type statusSpec struct{}

type statusFilter struct{ code int }

var (
	_ Spec           = (*statusSpec)(nil)
	_ Filter         = (*statusFilter)(nil)
	_ ResponseFilter = (*statusFilter)(nil)
)

// NewStatus returns the spec of status(code), which sets the status of the route's answer: the
// backend's response status is replaced by code, and a <shunt> route answers with it. code is
// a whole number from 100 to 999.
func NewStatus() Spec { return &statusSpec{} }

func (*statusSpec) Name() string { return StatusName }

func (*statusSpec) Create(args []any) (Filter, error) {
	if len(args) != 1 {
		return nil, argsErrorf("%s: want 1 number argument (status code), got %d", StatusName, len(args))
	}
	code, err := statusArg(StatusName, 1, args[0], 100, 999)
	if err != nil {
		return nil, err
	}
	return &statusFilter{code: code}, nil
}

func (*statusFilter) Request(*http.Request) error { return nil }

func (f *statusFilter) Response(res *http.Response) error {
	res.StatusCode = f.code
	res.Status = ""
	return nil
}

// statusArg checks that a, the filter's argument at pos, is a whole number from lo to hi.
func statusArg(filter string, pos int, a any, lo, hi int) (int, error) {
	n, ok := a.(float64)
	if !ok {
		return 0, argsErrorf("%s: argument %d (status code) must be a number, got %T", filter, pos, a)
	}
	if n != math.Trunc(n) || n < float64(lo) || n > float64(hi) {
		return 0, argsErrorf("%s: argument %d (status code) must be a whole number from %d to %d, got %v",
			filter, pos, lo, hi, n)
	}
	return int(n), nil
}
