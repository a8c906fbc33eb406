package filters

import (
	"hash/fnv"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// MaskAccessLogQueryName is the route name of the filter that hides query parameters in the
// access log.
const MaskAccessLogQueryName = "maskAccessLogQuery"

type maskAccessLogQuerySpec struct{}

type maskAccessLogQueryFilter struct{ keys []string }

var (
	_ Spec   = (*maskAccessLogQuerySpec)(nil)
	_ Filter = (*maskAccessLogQueryFilter)(nil)
)

// NewMaskAccessLogQuery returns the spec of maskAccessLogQuery(name, ...), which, as
// Skipper's, writes the values of the named query parameters into the access log line only
// as a hash (FNV-1a, 64 bits, in hex): the same value gives the same hash, so requests can
// still be told apart, but a token in the query does not reach the log. The backend gets the
// query unchanged.
func NewMaskAccessLogQuery() Spec { return &maskAccessLogQuerySpec{} }

func (*maskAccessLogQuerySpec) Name() string { return MaskAccessLogQueryName }

func (*maskAccessLogQuerySpec) Create(args []any) (Filter, error) {
	if len(args) == 0 {
		return nil, argsErrorf("%s: want 1 or more query parameter names, got 0", MaskAccessLogQueryName)
	}
	f := &maskAccessLogQueryFilter{}
	for i, a := range args {
		s, ok := a.(string)
		if !ok || s == "" {
			return nil, argsErrorf("%s: argument %d (query parameter) must be a non-empty string, got %#v", MaskAccessLogQueryName, i+1, a)
		}
		f.keys = append(f.keys, s)
	}
	return f, nil
}

func (f *maskAccessLogQueryFilter) Request(r *http.Request) error {
	if e := ExchangeOf(r); e != nil {
		e.maskQuery = append(e.maskQuery, f.keys...)
	}
	return nil
}

// AccessLogURI returns uri, a request target, as the access log is to show it: with the
// values of the query parameters that maskAccessLogQuery filters named replaced by their
// hashes. Without such filters, or on a nil Exchange, it returns uri itself.
func (e *Exchange) AccessLogURI(uri string) string {
	if e == nil || len(e.maskQuery) == 0 {
		return uri
	}
	path, query, ok := strings.Cut(uri, "?")
	if !ok {
		return uri
	}
	pairs := strings.Split(query, "&")
	for i, pair := range pairs {
		name, value, _ := strings.Cut(pair, "=")
		if n, err := url.QueryUnescape(name); err == nil && slices.Contains(e.maskQuery, n) {
			h := fnv.New64a()
			h.Write([]byte(value))
			pairs[i] = name + "=" + strconv.FormatUint(h.Sum64(), 16)
		}
	}
	return path + "?" + strings.Join(pairs, "&")
}
