package proxy

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
)

// This file follows the framing of HTTP/1.x requests on one connection (RFC 9112 §6), so that
// every request head can be checked before Go's server parses it. Go's server handles the
// ambiguous cases in its own way: it serves a request with both Content-Length and
// Transfer-Encoding as chunked (RFC 9112 §6.3 allows that), answers 501 to an unknown
// Transfer-Encoding, accepts obs-fold, and ignores Transfer-Encoding on HTTP/1.0, reading the
// chunked body that follows as the next request. When something in front of the proxy frames
// the same bytes differently, each of those lets a request hide inside another. We refuse all
// of them with 400 and close the connection instead.
//
// The scanner must find the same message boundaries as Go's parser, or it would check the wrong
// bytes: it mirrors Go's rules for what Go accepts, refuses the head of anything else, and stops
// the connection on a chunked body it cannot follow (where Go fails too).
//
// A request may take its connection out of HTTP: a CONNECT, or an upgrade that the backend
// accepts with 101. Whether it does is known only once the proxy has the backend's answer, so
// after a request that may (mayLeaveHTTP) the scanner hands over nothing more until the proxy
// hijacks the connection for a tunnel. If it does not, the proxy closes the connection after its
// answer, and the bytes held back never reach Go's parser.

// frameState is where in a request the next byte belongs.
type frameState int

const (
	stHead      frameState = iota // request line and header fields, held back until complete
	stLength                      // a body of Content-Length bytes
	stChunkLine                   // chunk-size [; ext] CRLF
	stChunkData                   // chunk data
	stChunkEnd                    // the CRLF after chunk data
	stTrailer                     // trailer fields after the last chunk, up to an empty line
	stAwait                       // after a request that may leave HTTP: hold everything back
	stPass                        // the proxy hijacked the connection: no longer HTTP, pass through
	stRejected                    // a head was refused: nothing more is read
)

// Limits on lines inside chunked bodies, the same as Go's.
const (
	maxChunkLine = 4096
	maxTrailer   = 4096
)

// errBodyFraming stops a connection whose chunked body could not be followed.
var errBodyFraming = errors.New("malformed chunked request body")

// framer tracks one connection's request stream. The zero value expects a request head.
type framer struct {
	state     frameState
	remaining uint64     // bytes left in the Content-Length body or the current chunk
	line      []byte     // the chunk-size or trailer line read so far
	trailer   int        // trailer bytes so far
	next      frameState // the state after the current body: stHead, or stAwait
	afterPOST bool       // Go skips up to four CR/LF bytes before a request that follows a POST
	skipped   int        // CR/LF bytes skipped before this head
}

// bodyBytes advances over body bytes in b, and returns how many of them belong to the
// current body. The state moves on once the body ends; an error means the stream cannot be
// followed any more.
func (f *framer) bodyBytes(b []byte) (int, error) {
	n := 0
	for n < len(b) {
		switch f.state {
		case stLength, stChunkData:
			k := uint64(len(b) - n)
			if k > f.remaining {
				k = f.remaining
			}
			n += int(k)
			f.remaining -= k
			if f.remaining == 0 {
				if f.state == stLength {
					f.state = f.next
					return n, nil
				}
				f.state = stChunkEnd
			}
		case stChunkEnd:
			f.line = append(f.line, b[n])
			n++
			if len(f.line) == 2 {
				if string(f.line) != "\r\n" {
					return n, errBodyFraming
				}
				f.line = f.line[:0]
				f.state = stChunkLine
			}
		case stChunkLine, stTrailer:
			i := bytes.IndexByte(b[n:], '\n')
			end := len(b)
			if i >= 0 {
				end = n + i + 1
			}
			f.line = append(f.line, b[n:end]...)
			n = end
			if len(f.line) > maxChunkLine {
				return n, errBodyFraming
			}
			if i < 0 {
				continue
			}
			if err := f.endLine(); err != nil {
				return n, err
			}
			if f.state == f.next {
				return n, nil
			}
		default:
			return n, nil
		}
	}
	return n, nil
}

// endLine handles a complete chunk-size or trailer line in f.line.
func (f *framer) endLine() error {
	line := f.line
	f.line = f.line[:0]
	// Chunk lines must end in CRLF with no other CR (RFC 9112 §7.1 and its erratum 7633);
	// trailer lines are held to the same rule, and folded trailer lines are not followed.
	if len(line) < 2 || line[len(line)-2] != '\r' || bytes.IndexByte(line[:len(line)-2], '\r') >= 0 {
		return errBodyFraming
	}
	line = line[:len(line)-2]
	if f.state == stTrailer {
		f.trailer += len(line) + 2
		switch {
		case len(line) == 0:
			f.state = f.next
		case f.trailer > maxTrailer, !isFieldLine(line):
			return errBodyFraming // obs-fold included
		}
		return nil
	}
	size, ok := parseChunkSize(line)
	if !ok {
		return errBodyFraming
	}
	if size == 0 {
		f.state, f.trailer = stTrailer, 0
		return nil
	}
	f.state, f.remaining = stChunkData, size
	return nil
}

// crlfOnly reports whether every CR in b starts a CRLF and every LF ends one.
func crlfOnly(b []byte) bool {
	for i, c := range b {
		switch {
		case c == '\r' && (i+1 == len(b) || b[i+1] != '\n'):
			return false
		case c == '\n' && (i == 0 || b[i-1] != '\r'):
			return false
		}
	}
	return true
}

// isFieldLine reports whether a trailer line starts with a field name and a colon. Go's server
// checks the names of the fields in a head but not in a trailer, where it takes "X Y: 1" as a
// field named "X Y".
func isFieldLine(line []byte) bool {
	name, _, ok := bytes.Cut(line, []byte(":"))
	return ok && isToken(string(name))
}

// parseChunkSize reads the hexadecimal chunk size: 1 to 16 digits (Go's limit), then the end of
// the line or an extension after ';', which is dropped. Whitespace after the digits is refused:
// RFC 9112 §7.1 allows none without an extension, and Go refuses it before ';'.
func parseChunkSize(line []byte) (uint64, bool) {
	line, _, _ = bytes.Cut(line, []byte(";"))
	if len(line) == 0 || len(line) > 16 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(line), 16, 64)
	return n, err == nil
}

// headEnd returns the index just past the empty line that ends the head starting at b[0], or -1
// when the head is not complete yet. Lines end in LF or CRLF, as Go's parser allows, so that the
// head ends where Go would end it; checkHead then refuses a lone LF.
func headEnd(b []byte, from int) int {
	for i := max(from, 0); i < len(b); i++ {
		if b[i] != '\n' {
			continue
		}
		j := i + 1 // the next line starts here
		if j < len(b) && b[j] == '\n' {
			return j + 1
		}
		if j+1 < len(b) && b[j] == '\r' && b[j+1] == '\n' {
			return j + 2
		}
	}
	return -1
}

// headVerdict is what checkHead found in one request head.
type headVerdict struct {
	body    frameState // stHead (no body), stLength or stChunkLine
	length  uint64     // for stLength
	leave   bool       // the request may take the connection out of HTTP (mayLeaveHTTP)
	post    bool
	reject  string // why the head is refused; "" when it is fine
	status  int    // the status for a refused head
	line    string // the request line, for the refusal
	hostHdr string // the Host field, for the refusal
}

// checkHead checks one complete request head and works out how its body is framed.
func checkHead(head []byte) headVerdict {
	var v headVerdict
	lines := strings.Split(strings.TrimRight(string(head), "\r\n"), "\n")
	for i := range lines {
		lines[i] = strings.TrimSuffix(lines[i], "\r")
	}
	v.line = lines[0]
	if !crlfOnly(head) {
		// RFC 9112 §2.2 lets a recipient take a lone LF for a line end, as Go does; one that
		// does not reads different fields.
		return v.refuse("bare CR or LF")
	}
	method, rest, ok1 := strings.Cut(lines[0], " ")
	target, proto, ok2 := strings.Cut(rest, " ")
	minor, okProto := http1Minor(proto)
	// Go takes an empty target after CONNECT for an empty authority.
	if !ok1 || !ok2 || !okProto || !isToken(method) || target == "" {
		return v.refuse("malformed request line")
	}
	var lengths, encodings, connection []string
	for _, l := range lines[1:] {
		if l != "" && (l[0] == ' ' || l[0] == '\t') {
			return v.refuse("obsolete line folding") // RFC 9112 §5.2 allows refusing it
		}
		name, value, ok := strings.Cut(l, ":")
		if !ok || !isToken(name) {
			return v.refuse("malformed header field")
		}
		value = strings.Trim(value, " \t")
		switch {
		case strings.EqualFold(name, "Content-Length"):
			lengths = append(lengths, value)
		case strings.EqualFold(name, "Transfer-Encoding"):
			encodings = append(encodings, value)
		case strings.EqualFold(name, "Connection"):
			connection = append(connection, value)
		case strings.EqualFold(name, "Host") && v.hostHdr == "":
			v.hostHdr = value
		}
	}
	switch {
	case len(encodings) > 0 && minor == 0:
		// Go ignores Transfer-Encoding on HTTP/1.0 and would read the chunked body as the
		// next request.
		return v.refuse("transfer-encoding in an HTTP/1.0 request")
	case len(encodings) > 0 && len(lengths) > 0:
		return v.refuse("both content-length and transfer-encoding") // RFC 9112 §6.1
	case len(encodings) > 1 || len(encodings) == 1 && !strings.EqualFold(encodings[0], "chunked"):
		return v.refuse("unsupported transfer-encoding")
	case len(encodings) == 1:
		v.body = stChunkLine
	case len(lengths) > 0:
		n, reason := contentLength(lengths)
		if reason != "" {
			return v.refuse(reason)
		}
		if n > 0 {
			v.body, v.length = stLength, n
		}
	}
	v.leave = mayLeaveHTTP(method, connection)
	v.post = method == "POST"
	return v
}

func (v headVerdict) refuse(reason string) headVerdict {
	v.reject, v.status = reason, 400
	return v
}

// contentLength reads the Content-Length fields of a request: digits only, and the same value in
// every field (RFC 9110 §8.6, RFC 9112 §6.3).
func contentLength(fields []string) (uint64, string) {
	for _, f := range fields {
		if f != fields[0] {
			return 0, "conflicting content-length"
		}
	}
	f := fields[0]
	if f == "" || strings.Trim(f, "0123456789") != "" {
		return 0, "malformed content-length"
	}
	n, err := strconv.ParseUint(f, 10, 63)
	if err != nil {
		return 0, "malformed content-length"
	}
	return n, ""
}

// http1Minor returns the minor version of an "HTTP/1.x" protocol string.
func http1Minor(proto string) (int, bool) {
	if len(proto) != len("HTTP/1.1") || !strings.HasPrefix(proto, "HTTP/1.") {
		return 0, false
	}
	d := proto[len(proto)-1]
	return int(d - '0'), d >= '0' && d <= '9'
}

// isToken reports whether s is an RFC 9110 token, as method and field names must be.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

// mayLeaveHTTP reports whether a request with this method and these Connection field values may
// take its connection out of HTTP: a CONNECT, or a request whose Connection names "upgrade",
// whatever its Upgrade fields say (RFC 9110 §7.8, §9.3.6). The guard holds back what follows
// such a request until the proxy hijacks the connection, and the proxy closes the connection
// after answering one that it did not hijack: both decide with this one function, on the same
// fields, so that nothing the client sends after it is ever parsed unchecked.
func mayLeaveHTTP(method string, connection []string) bool {
	return method == "CONNECT" || hasToken(connection, "upgrade")
}

// upgradeProtocol returns the protocol that a request's Upgrade field values ask to switch to:
// the one protocol they list, ignoring empty list elements (RFC 9110 §5.6.1) and repeats of the
// same protocol. It returns "" when they list none, more than one, or something that is not a
// protocol: a server may ignore an Upgrade it does not take (RFC 9110 §7.8), and the proxy then
// forwards the request without one.
func upgradeProtocol(values []string) string {
	proto := ""
	for _, v := range values {
		for v != "" {
			var p string
			p, v, _ = strings.Cut(v, ",")
			p = strings.Trim(p, " \t")
			switch {
			case p == "" || strings.EqualFold(p, proto):
			case proto != "" || !isProtocol(p):
				return ""
			default:
				proto = p
			}
		}
	}
	return proto
}

// isProtocol reports whether s is a protocol of an Upgrade field: a token, or two joined by "/".
func isProtocol(s string) bool {
	name, version, ok := strings.Cut(s, "/")
	return isToken(name) && (!ok || isToken(version))
}

// hasToken reports whether any of the comma-separated lists in values holds token, compared
// without regard to case.
func hasToken(values []string, token string) bool {
	for _, v := range values {
		for v != "" {
			var t string
			t, v, _ = strings.Cut(v, ",")
			if strings.EqualFold(strings.Trim(t, " \t"), token) {
				return true
			}
		}
	}
	return false
}
