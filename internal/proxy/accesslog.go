package proxy

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// accessLog writes one line per request in Skipper's format, which is Apache's combined log
// format followed by the duration in milliseconds and the requested host:
//
//	127.0.0.1 - - [02/Jan/2006:15:04:05 -0700] "GET /foo HTTP/1.1" 200 42 "-" "curl/8.5.0" 3 host1 - -
//
// With JSON set it writes the same fields as one JSON object per line instead.
type accessLog struct {
	mu   sync.Mutex // serialises writes so lines never interleave
	out  io.Writer
	json bool
	bufs sync.Pool // *[]byte
}

func newAccessLog(out io.Writer, json bool) *accessLog {
	a := &accessLog{out: out, json: json}
	a.bufs.New = func() any { b := make([]byte, 0, 256); return &b }
	return a
}

func (a *accessLog) write(r *http.Request, user string, status int, size int64, start, end time.Time) {
	bp := a.bufs.Get().(*[]byte)
	b := (*bp)[:0]

	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if a.json {
		b = appendJSON(b, r, host, user, status, size, start, end)
	} else {
		b = appendText(b, r, host, user, status, size, start, end)
	}

	a.mu.Lock()
	a.out.Write(b) //nolint:errcheck // a failing log sink must not fail the request
	a.mu.Unlock()

	*bp = b
	a.bufs.Put(bp)
}

// appendText appends the line in Skipper's text format.
func appendText(b []byte, r *http.Request, host, user string, status int, size int64, start, end time.Time) []byte {
	b = appendField(b, host)
	b = append(b, " - "...)
	b = appendField(b, user) // Apache's authuser: the forward-proxy user, never a password
	b = append(b, " ["...)
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
	return append(b, " - -\n"...)
}

// appendJSON appends the line as a JSON object with the field names of Skipper's JSON access
// log.
func appendJSON(b []byte, r *http.Request, host, user string, status int, size int64, start, end time.Time) []byte {
	b = append(b, `{"timestamp":`...)
	b = appendJSONString(b, start.Format(time.RFC3339Nano))
	b = append(b, `,"host":`...)
	b = appendJSONString(b, host)
	b = append(b, `,"method":`...)
	b = appendJSONString(b, r.Method)
	b = append(b, `,"uri":`...)
	b = appendJSONString(b, r.RequestURI)
	b = append(b, `,"proto":`...)
	b = appendJSONString(b, r.Proto)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"response-size":`...)
	b = strconv.AppendInt(b, size, 10)
	b = append(b, `,"referer":`...)
	b = appendJSONString(b, r.Referer())
	b = append(b, `,"user-agent":`...)
	b = appendJSONString(b, r.UserAgent())
	b = append(b, `,"duration":`...)
	b = strconv.AppendInt(b, end.Sub(start).Milliseconds(), 10)
	b = append(b, `,"requested-host":`...)
	b = appendJSONString(b, r.Host)
	if user != "" {
		b = append(b, `,"auth-user":`...)
		b = appendJSONString(b, user)
	}
	return append(b, "}\n"...)
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

// appendJSONString appends s as a JSON string. Header values may hold any byte but controls, so
// invalid UTF-8 becomes U+FFFD and controls become \u escapes, keeping every line valid JSON.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, c := range s { // ranging over a string yields U+FFFD for each invalid byte
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', byte(c))
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = utf8.AppendRune(b, c)
		}
	}
	return append(b, '"')
}
