package proxy

import (
	"bytes"
	"maps"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
)

// This file holds a strict reading of an HTTP/1.1 request stream (RFC 9112), written without
// looking at the guard, for FuzzConnection to compare the guard and Go's server against. It
// refuses everything whose framing could be read two ways, and the few things that RFC 9112
// allows but Go cannot serve (marked below). Elsewhere it is lenient: whatever it accepts that Go
// refuses ends the connection with an error, which the fuzz target allows.
//
// Policy choices where RFC 9112 leaves a choice: a line in a head ends in CRLF only, a lone LF is
// refused (§2.2 allows taking it for a line end, as Go does; a recipient that does not reads
// other fields); up to four CR or LF bytes after a POST's body are skipped before the next
// request line (§2.2, Go's exact tolerance); Content-Length may repeat with the same value
// (RFC 9110 §8.6); a request-target may hold obs-text bytes, which are not a matter of framing.

// refRequest is one request as a reading saw it, in a form that compares across readings: the
// fields that Go consumes while parsing (Host, Content-Length, Transfer-Encoding, Trailer) are
// left out of Header and compared through Host, Body and Chunked instead.
type refRequest struct {
	Method, Target, Proto string
	Host                  string // the Host field, when it names the host (hostFromField)
	Header                string // the other fields, one "Name: v1\x00v2" line each, by name
	Chunked               bool
	Body                  string
	Trailer               string // as Header
	BodyErr               bool   // the body could not be read to its end
}

// refResult is what the strict reading made of a whole stream.
type refResult struct {
	reqs []refRequest
	// partial is the head of the request after reqs whose body was refused or cut short, if
	// that is why the reading stopped.
	partial *refRequest
	stop    string // why it stopped: end, incomplete, refused, close or leave
	reason  string // for refused
}

// Limits that Go's server sets on chunked bodies, which the reading adopts: Go cannot serve a
// body beyond them, so it counts as refused.
const (
	refMaxChunkLine = 4095 // bytes of a chunk-size line with its CRLF
	refMaxTrailer   = 4096 // bytes of the trailer section with its last CRLF
)

// refRead reads data as a client's request stream up to its first problem.
func refRead(data []byte) refResult {
	var res refResult
	pos, afterPOST := 0, false
	for {
		if afterPOST {
			for i := 0; i < 4 && pos < len(data) && (data[pos] == '\r' || data[pos] == '\n'); i++ {
				pos++
			}
		}
		if pos == len(data) {
			res.stop = "end"
			return res
		}
		h, n, why := refHead(data[pos:])
		switch {
		case why == "incomplete":
			res.stop = "incomplete"
			return res
		case why != "":
			res.stop, res.reason = "refused", why
			return res
		}
		pos += n
		req := h.request()
		body, n, why := refBody(h, data[pos:])
		if why != "" {
			res.partial = &req
			res.stop, res.reason = "refused", why
			if why == "incomplete" {
				res.stop, res.reason = "incomplete", ""
			}
			return res
		}
		pos += n
		req.Body, req.Trailer = string(body.data), renderFields(body.trailer)
		res.reqs = append(res.reqs, req)
		switch {
		case h.method == "CONNECT" || h.connection("upgrade"):
			res.stop = "leave" // what follows is not HTTP, or not read at all
			return res
		case h.connection("close") || h.minor == 0 && !h.connection("keep-alive"):
			res.stop = "close"
			return res
		}
		afterPOST = h.method == "POST"
	}
}

// refHeadFields is a request head read strictly.
type refHeadFields struct {
	method, target, proto string
	minor                 int
	fields                []refField
	chunked               bool
	length                uint64
}

type refField struct{ name, value string }

// refHead reads the head at the start of b. It returns the bytes it took, or why it refused it
// ("incomplete" when b ends first).
func refHead(b []byte) (refHeadFields, int, string) {
	var h refHeadFields
	pos := 0
	line := func() (string, string) {
		i := bytes.IndexByte(b[pos:], '\n')
		if i < 0 {
			return "", "incomplete"
		}
		l := b[pos : pos+i]
		pos += i + 1
		if len(l) == 0 || l[len(l)-1] != '\r' {
			return "", "bare LF"
		}
		l = l[:len(l)-1]
		if bytes.IndexByte(l, '\r') >= 0 {
			return "", "bare CR" // §2.2: not a line end here, and some read it as one
		}
		return string(l), ""
	}
	start, why := line()
	if why != "" {
		return h, 0, why
	}
	parts := strings.Split(start, " ")
	if len(parts) != 3 || !refToken(parts[0]) || !refTarget(parts[1]) {
		return h, 0, "request line"
	}
	h.method, h.target, h.proto = parts[0], parts[1], parts[2]
	if len(h.proto) != len("HTTP/1.1") || !strings.HasPrefix(h.proto, "HTTP/1.") || h.proto[7] < '0' || h.proto[7] > '9' {
		return h, 0, "version"
	}
	h.minor = int(h.proto[7] - '0')
	for {
		l, why := line()
		if why != "" {
			return h, 0, why
		}
		if l == "" {
			break
		}
		f, ok := refFieldLine(l)
		if !ok {
			return h, 0, "field line" // obs-fold and whitespace before the colon included
		}
		h.fields = append(h.fields, f)
	}
	if why := h.framing(); why != "" {
		return h, 0, why
	}
	return h, pos, ""
}

// refFieldLine reads name ":" OWS value OWS (RFC 9112 §5).
func refFieldLine(l string) (refField, bool) {
	name, value, ok := strings.Cut(l, ":")
	if !ok || !refToken(name) {
		return refField{}, false
	}
	value = strings.Trim(value, " \t")
	for i := 0; i < len(value); i++ {
		if c := value[i]; c < ' ' && c != '\t' || c == 0x7f {
			return refField{}, false
		}
	}
	return refField{textproto.CanonicalMIMEHeaderKey(name), value}, true
}

// framing works out how the body is delimited (RFC 9112 §6), refusing every ambiguous case.
func (h *refHeadFields) framing() string {
	var lengths, encodings []string
	hosts := 0
	for _, f := range h.fields {
		switch f.name {
		case "Content-Length":
			lengths = append(lengths, f.value)
		case "Transfer-Encoding":
			encodings = append(encodings, f.value)
		case "Host":
			hosts++
		}
	}
	switch {
	case hosts > 1:
		return "two Host fields"
	case len(encodings) > 0 && h.minor == 0:
		return "Transfer-Encoding in HTTP/1.0"
	case len(encodings) > 0 && len(lengths) > 0:
		return "Content-Length and Transfer-Encoding"
	case len(encodings) > 1 || len(encodings) == 1 && !strings.EqualFold(encodings[0], "chunked"):
		return "Transfer-Encoding other than chunked"
	case len(encodings) == 1:
		h.chunked = true
	case len(lengths) > 0:
		for _, l := range lengths {
			if l != lengths[0] {
				return "differing Content-Length"
			}
		}
		if lengths[0] == "" || strings.Trim(lengths[0], "0123456789") != "" {
			return "Content-Length not a number"
		}
		n, err := strconv.ParseUint(lengths[0], 10, 63)
		if err != nil {
			return "Content-Length too large"
		}
		h.length = n
	}
	return ""
}

// connection reports whether a Connection field lists token.
func (h *refHeadFields) connection(token string) bool {
	for _, f := range h.fields {
		if f.name != "Connection" {
			continue
		}
		for t := range strings.SplitSeq(f.value, ",") {
			if strings.EqualFold(strings.Trim(t, " \t"), token) {
				return true
			}
		}
	}
	return false
}

// request returns the head in comparable form.
func (h *refHeadFields) request() refRequest {
	r := refRequest{Method: h.method, Target: h.target, Proto: h.proto, Chunked: h.chunked}
	fields := map[string][]string{}
	for _, f := range h.fields {
		switch f.name {
		case "Host":
			if hostFromField(h.method, h.target) {
				r.Host = f.value
			}
		case "Content-Length", "Transfer-Encoding", "Trailer":
		default:
			fields[f.name] = append(fields[f.name], f.value)
		}
	}
	// A request Pragma: no-cache counts as Cache-Control: no-cache when there is none (RFC 7234
	// §5.4); Go's server adds the field, so the reading does too.
	if p := fields["Pragma"]; len(p) > 0 && p[0] == "no-cache" && fields["Cache-Control"] == nil {
		fields["Cache-Control"] = []string{"no-cache"}
	}
	r.Header = renderFields(fields)
	return r
}

// hostFromField reports whether the Host field names a request's host, which the comparison
// then checks: not when its target is an absolute URI or a CONNECT's authority (RFC 9112 §3.2).
func hostFromField(method, target string) bool {
	return method != "CONNECT" && (target == "*" || strings.HasPrefix(target, "/"))
}

// refBodyData is a body read strictly.
type refBodyData struct {
	data    []byte
	trailer map[string][]string
}

// refBody reads the body of h at the start of b, returning the bytes it took or why it could
// not ("incomplete" when b ends first).
func refBody(h refHeadFields, b []byte) (refBodyData, int, string) {
	var body refBodyData
	if !h.chunked {
		if uint64(len(b)) < h.length {
			return body, 0, "incomplete"
		}
		body.data = b[:h.length]
		return body, int(h.length), ""
	}
	pos := 0
	for {
		i := bytes.IndexByte(b[pos:], '\n')
		if i < 0 {
			if len(b)-pos >= refMaxChunkLine {
				return body, 0, "chunk line too long"
			}
			return body, 0, "incomplete"
		}
		l := b[pos : pos+i+1]
		if len(l) > refMaxChunkLine {
			return body, 0, "chunk line too long"
		}
		size, ok := refChunkSize(l)
		if !ok {
			return body, 0, "chunk line"
		}
		pos += len(l)
		if size == 0 {
			break
		}
		if uint64(len(b)-pos) < size+2 {
			return body, 0, "incomplete"
		}
		body.data = append(body.data, b[pos:pos+int(size)]...)
		pos += int(size)
		if string(b[pos:pos+2]) != "\r\n" {
			return body, 0, "chunk data longer than its size"
		}
		pos += 2
	}
	body.trailer = map[string][]string{}
	start := pos
	for {
		i := bytes.IndexByte(b[pos:], '\n')
		if i < 0 {
			if len(b)-start >= refMaxTrailer {
				return body, 0, "trailer too long"
			}
			return body, 0, "incomplete"
		}
		l := b[pos : pos+i+1]
		pos += len(l)
		if pos-start > refMaxTrailer {
			return body, 0, "trailer too long"
		}
		if len(l) < 2 || l[len(l)-2] != '\r' || bytes.IndexByte(l[:len(l)-2], '\r') >= 0 {
			return body, 0, "trailer line end"
		}
		if len(l) == 2 {
			return body, pos, ""
		}
		f, ok := refFieldLine(string(l[:len(l)-2]))
		if !ok {
			return body, 0, "trailer field"
		}
		body.trailer[f.name] = append(body.trailer[f.name], f.value)
	}
}

// refChunkSize reads a chunk-size line: 1 to 16 hex digits, then CRLF or ";" and an extension
// up to CRLF (RFC 9112 §7.1). Whitespace before ";" (BWS, which RFC 9112 allows) is refused, as
// Go refuses it.
func refChunkSize(l []byte) (uint64, bool) {
	if len(l) < 3 || l[len(l)-2] != '\r' || bytes.IndexByte(l[:len(l)-2], '\r') >= 0 {
		return 0, false
	}
	l = l[:len(l)-2]
	digits, _, _ := bytes.Cut(l, []byte(";"))
	if len(digits) == 0 || len(digits) > 16 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(digits), 16, 64)
	return n, err == nil
}

// refToken reports whether s is an RFC 9110 token.
func refToken(s string) bool {
	return s != "" && strings.IndexFunc(s, func(c rune) bool {
		return !(c < 0x80 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.ContainsRune("!#$%&'*+-.^_`|~", c)))
	}) < 0
}

// refTarget reports whether s may be a request-target: no controls, no spaces.
func refTarget(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7f {
			return false
		}
	}
	return true
}

// renderFields renders fields one line each, by name, values in order.
func renderFields(fields map[string][]string) string {
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		if fields[name] == nil {
			continue // a trailer Go's server announced from the Trailer field but never received
		}
		b.WriteString(name + ": " + strings.Join(fields[name], "\x00") + "\n")
	}
	return b.String()
}

// seenRequest renders a request that Go's server handed to a handler in refRequest's form. body
// and trailer are what reading the body gave, bodyErr whether that failed.
func seenRequest(r *http.Request, body []byte, bodyErr error) refRequest {
	seen := refRequest{
		Method: r.Method, Target: r.RequestURI, Proto: r.Proto,
		Chunked: slices.Contains(r.TransferEncoding, "chunked"),
		Body:    string(body), BodyErr: bodyErr != nil,
	}
	if hostFromField(r.Method, r.RequestURI) {
		seen.Host = r.Host
	}
	h := map[string][]string{}
	for name, values := range r.Header {
		switch name {
		case "Content-Length", "Transfer-Encoding", "Trailer":
		default:
			h[name] = values
		}
	}
	seen.Header = renderFields(h)
	seen.Trailer = renderFields(r.Trailer)
	return seen
}
