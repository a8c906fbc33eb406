package proxy

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// accessLog writes one line per request in Skipper's format, which is Apache's combined log
// format followed by the duration in milliseconds and the requested host:
//
//	127.0.0.1 - - [02/Jan/2006:15:04:05 -0700] "GET /foo HTTP/1.1" 200 42 "-" "curl/8.5.0" 3 host1 - -
type accessLog struct {
	mu   sync.Mutex // serialises writes so lines never interleave
	out  io.Writer
	bufs sync.Pool // *[]byte
}

func newAccessLog(out io.Writer) *accessLog {
	a := &accessLog{out: out}
	a.bufs.New = func() any { b := make([]byte, 0, 256); return &b }
	return a
}

func (a *accessLog) write(r *http.Request, status int, size int64, start, end time.Time) {
	bp := a.bufs.Get().(*[]byte)
	b := (*bp)[:0]

	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	b = appendField(b, host)
	b = append(b, " - - ["...)
	b = start.AppendFormat(b, "02/Jan/2006:15:04:05 -0700")
	b = append(b, "] \""...)
	b = append(b, r.Method...)
	b = append(b, ' ')
	b = append(b, r.RequestURI...)
	b = append(b, ' ')
	b = append(b, r.Proto...)
	b = append(b, "\" "...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, size, 10)
	b = append(b, ' ')
	b = strconv.AppendQuote(b, orDash(r.Referer()))
	b = append(b, ' ')
	b = strconv.AppendQuote(b, orDash(r.UserAgent()))
	b = append(b, ' ')
	b = strconv.AppendInt(b, end.Sub(start).Milliseconds(), 10)
	b = append(b, ' ')
	b = appendField(b, r.Host)
	b = append(b, " - -\n"...)

	a.mu.Lock()
	a.out.Write(b) //nolint:errcheck // a failing log sink must not fail the request
	a.mu.Unlock()

	*bp = b
	a.bufs.Put(bp)
}

// appendField appends s, or "-" when it is empty, as the combined format writes missing fields.
func appendField(b []byte, s string) []byte {
	return append(b, orDash(s)...)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
