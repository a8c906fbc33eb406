package filters

import "net/http"

// DisableAccessLogName is the route name of the filter that turns the access log off for a
// route, or for some of its statuses.
const DisableAccessLogName = "disableAccessLog"

// EnableAccessLogName is the route name of the filter that turns the access log on for a
// route, or for some of its statuses, when -access-log-disabled turned it off.
const EnableAccessLogName = "enableAccessLog"

// AccessLogSwitch is what disableAccessLog or enableAccessLog decided for a request. The
// proxy asks Logs whether to write the request's access log line.
type AccessLogSwitch struct {
	enable   bool
	prefixes []int
}

type accessLogSpec struct{ enable bool }

type accessLogFilter struct{ sw AccessLogSwitch }

var (
	_ Spec   = (*accessLogSpec)(nil)
	_ Filter = (*accessLogFilter)(nil)
)

// NewDisableAccessLog returns the spec of disableAccessLog([prefix...]), which, as in Skipper,
// writes no access log line for the route's requests; with prefixes, only for the statuses
// they match: 4 matches 400 to 499, 40 matches 400 to 409, and 404 only 404.
func NewDisableAccessLog() Spec { return &accessLogSpec{} }

// NewEnableAccessLog returns the spec of enableAccessLog([prefix...]), which writes the
// route's access log lines even under -access-log-disabled; with prefixes, only those of the
// statuses they match (see NewDisableAccessLog), and no others.
func NewEnableAccessLog() Spec { return &accessLogSpec{enable: true} }

func (s *accessLogSpec) Name() string {
	if s.enable {
		return EnableAccessLogName
	}
	return DisableAccessLogName
}

// Create takes any number of status prefixes, numbers, as Skipper does; a fraction is cut to
// its whole part.
func (s *accessLogSpec) Create(args []any) (Filter, error) {
	f := &accessLogFilter{sw: AccessLogSwitch{enable: s.enable}}
	for i, a := range args {
		n, ok := a.(float64)
		if !ok {
			return nil, argsErrorf("%s: argument %d (status prefix) must be a number, got %T", s.Name(), i+1, a)
		}
		f.sw.prefixes = append(f.sw.prefixes, int(n))
	}
	return f, nil
}

// Request hands the switch to the proxy; the last access log filter a request passes wins.
func (f *accessLogFilter) Request(r *http.Request) error {
	if e := ExchangeOf(r); e != nil {
		e.accessLog = &f.sw
	}
	return nil
}

// Logs reports whether a request answered with status gets an access log line. A nil switch
// (no access log filter ran) keeps def, the proxy's own setting.
func (s *AccessLogSwitch) Logs(status int, def bool) bool {
	if s == nil {
		return def
	}
	if len(s.prefixes) == 0 {
		return s.enable
	}
	return matchStatusPrefix(status, s.prefixes) == s.enable
}

// matchStatusPrefix reports whether status matches one of prefixes: a digit its hundred, two
// digits its ten, more the status itself.
func matchStatusPrefix(status int, prefixes []int) bool {
	for _, p := range prefixes {
		var match bool
		switch {
		case p < 10:
			match = status >= p*100 && status < (p+1)*100
		case p < 100:
			match = status >= p*10 && status < (p+1)*10
		default:
			match = status == p
		}
		if match {
			return true
		}
	}
	return false
}

// AccessLog returns the switch that the last access log filter of the request set, nil if
// none did. A nil Exchange has none.
func (e *Exchange) AccessLog() *AccessLogSwitch {
	if e == nil {
		return nil
	}
	return e.accessLog
}

// KeepAccessLog carries prev's access log switch, and the query parameters it masks, over to e, the Exchange of the next route
// behind a <loopback>, so that a switch set before the loopback still holds.
func (e *Exchange) KeepAccessLog(prev *Exchange) {
	if e != nil && e.accessLog == nil {
		e.accessLog = prev.AccessLog()
	}
	if e != nil && prev != nil {
		e.maskQuery = append(e.maskQuery, prev.maskQuery...)
	}
}
