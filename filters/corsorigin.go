package filters

import (
	"net/http"
	"slices"
)

// CorsOriginName is the route name of the filter that sets Access-Control-Allow-Origin.
const CorsOriginName = "corsOrigin"

const headerAllowOrigin = "Access-Control-Allow-Origin"

type corsOriginSpec struct{}

type corsOriginFilter struct{ origins []string }

var (
	_ Spec           = (*corsOriginSpec)(nil)
	_ ResponseFilter = (*corsOriginFilter)(nil)
)

// NewCorsOrigin returns the spec of corsOrigin([origin, ...]), which, as in Skipper, sets the
// response's Access-Control-Allow-Origin: to * without arguments, else to the request's Origin
// when it is one of the origins (compared byte for byte), and not at all otherwise.
func NewCorsOrigin() Spec { return &corsOriginSpec{} }

func (*corsOriginSpec) Name() string { return CorsOriginName }

func (*corsOriginSpec) Create(args []any) (Filter, error) {
	f := &corsOriginFilter{}
	for i, a := range args {
		s, ok := a.(string)
		if !ok {
			return nil, argsErrorf("%s: argument %d (origin) must be a string, got %T", CorsOriginName, i+1, a)
		}
		if err := checkHeaderText(CorsOriginName, i+1, "origin", s); err != nil {
			return nil, err
		}
		f.origins = append(f.origins, s)
	}
	return f, nil
}

func (*corsOriginFilter) Request(*http.Request) error { return nil }

func (f *corsOriginFilter) Response(res *http.Response) error {
	if len(f.origins) == 0 {
		res.Header.Set(headerAllowOrigin, "*")
		return nil
	}
	if res.Request == nil {
		return nil
	}
	if o := res.Request.Header.Get("Origin"); o != "" && slices.Contains(f.origins, o) {
		res.Header.Set(headerAllowOrigin, o)
	}
	return nil
}
