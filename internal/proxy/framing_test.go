package proxy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestCheckHead(t *testing.T) {
	tests := []struct {
		name       string
		head       string
		wantReject string
		wantBody   frameState
		wantLength uint64
		wantLeave  bool
	}{
		{"plain GET", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", "", stHead, 0, false},

		{"content-length", "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n", "", stLength, 5, false},
		{"content-length with spaces", "POST / HTTP/1.1\r\nContent-Length:  5 \t\r\n\r\n", "", stLength, 5, false},
		{"content-length zero", "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", "", stHead, 0, false},
		{"same content-length twice", "POST / HTTP/1.1\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n", "", stLength, 5, false},
		{"chunked", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", "", stChunkLine, 0, false},
		{"chunked any case", "POST / HTTP/1.1\r\ntransfer-encoding: CHUNKED\r\n\r\n", "", stChunkLine, 0, false},
		{"websocket upgrade", "GET / HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n", "", stHead, 0, true},
		{"upgrade not named in connection", "GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", "", stHead, 0, false},
		{"connect", "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", "", stHead, 0, true},
		{"empty upgrade", "GET / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade:\r\n\r\n", "", stHead, 0, true},
		{"connection upgrade alone", "GET / HTTP/1.1\r\nconnection: UPGRADE\r\n\r\n", "", stHead, 0, true},
		{"upgrade with a body", "POST / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: x\r\nContent-Length: 3\r\n\r\n", "", stLength, 3, true},

		{"content-length and transfer-encoding", "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", "both content-length and transfer-encoding", 0, 0, false},
		{"two transfer-encodings", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", "unsupported transfer-encoding", 0, 0, false},
		{"chunked, chunked", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", "unsupported transfer-encoding", 0, 0, false},
		{"gzip", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", "unsupported transfer-encoding", 0, 0, false},
		{"identity", "POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n", "unsupported transfer-encoding", 0, 0, false},
		{"empty transfer-encoding", "POST / HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n", "unsupported transfer-encoding", 0, 0, false},
		{"transfer-encoding in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", "transfer-encoding in an HTTP/1.0 request", 0, 0, false},
		{"obs-fold", "POST / HTTP/1.1\r\nTransfer-Encoding:\r\n chunked\r\n\r\n", "obsolete line folding", 0, 0, false},
		{"space before colon", "POST / HTTP/1.1\r\nTransfer-Encoding : chunked\r\n\r\n", "malformed header field", 0, 0, false},
		{"conflicting content-length", "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", "conflicting content-length", 0, 0, false},
		{"content-length list", "POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n", "malformed content-length", 0, 0, false},
		{"signed content-length", "POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n", "malformed content-length", 0, 0, false},
		{"negative content-length", "POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n", "malformed content-length", 0, 0, false},
		{"empty content-length", "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", "malformed content-length", 0, 0, false},
		{"huge content-length", "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", "malformed content-length", 0, 0, false},
		{"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\n", "malformed request line", 0, 0, false},
		{"no version", "GET /\r\n\r\n", "malformed request line", 0, 0, false},
		{"bare LF lines", "GET / HTTP/1.1\nHost: a\n\n", "bare CR or LF", 0, 0, false},
		{"a bare LF line", "GET / HTTP/1.1\r\nX: a\nContent-Length: 5\r\n\r\n", "bare CR or LF", 0, 0, false},
		{"bare CR ending a value", "GET / HTTP/1.1\r\nX: a\r\r\n\r\n", "bare CR or LF", 0, 0, false},
		{"empty target", "CONNECT  HTTP/1.1\r\n\r\n", "malformed request line", 0, 0, false},
		{"empty request line", "\r\nHost: a\r\n\r\n", "malformed request line", 0, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := checkHead([]byte(tc.head))
			if v.reject != tc.wantReject {
				t.Fatalf("got refusal %q, want %q", v.reject, tc.wantReject)
			}
			if tc.wantReject != "" {
				return
			}
			if v.body != tc.wantBody || v.length != tc.wantLength || v.leave != tc.wantLeave {
				t.Errorf("got body %d length %d leave %t, want %d %d %t", v.body, v.length, v.leave, tc.wantBody, tc.wantLength, tc.wantLeave)
			}
		})
	}
}

// TestGuardConnStream feeds byte streams through a guardConn, one byte per read and all at once,
// and checks what the server would read.
func TestGuardConnStream(t *testing.T) {
	const nonce = "N"
	refused := func(line, host, reason string) string {
		return line + "\r\nHost: " + host + "\r\nConnection: close\r\n" + framingHeader + ": N 400 " + reason + "\r\n\r\n"
	}
	// Without wantMax, the server must read exactly want. With it (a body that cannot be
	// followed), the server reads at least want and at most wantMax: body bytes are handed over
	// as they come, before what follows them shows the body to be broken.
	tests := []struct {
		name    string
		in      string
		want    string
		wantMax string
		wantErr error
	}{
		{"two requests", "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n",
			"GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n", "", io.EOF},
		{"body that looks like a head", "POST / HTTP/1.1\r\nContent-Length: 20\r\n\r\nX / HTTP/1.1\r\nA:\tb\r\n\r\n",
			"POST / HTTP/1.1\r\nContent-Length: 20\r\n\r\nX / HTTP/1.1\r\nA:\tb\r\n\r\n", "", io.EOF},
		{"chunked with extension and trailer", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nX-T: 1\r\n\r\nGET / HTTP/1.1\r\n\r\n",
			"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nX-T: 1\r\n\r\nGET / HTTP/1.1\r\n\r\n", "", io.EOF},
		{"CRLF after POST", "POST / HTTP/1.1\r\nContent-Length: 1\r\n\r\nx\r\nGET / HTTP/1.1\r\n\r\n",
			"POST / HTTP/1.1\r\nContent-Length: 1\r\n\r\nx\r\nGET / HTTP/1.1\r\n\r\n", "", io.EOF},
		{"smuggled after a good request", "GET /a HTTP/1.1\r\nHost: h\r\n\r\nPOST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /c HTTP/1.1\r\n\r\n",
			"GET /a HTTP/1.1\r\nHost: h\r\n\r\n" + refused("POST /b HTTP/1.1", "h", "both content-length and transfer-encoding"), "", io.EOF},
		{"bad chunk size", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nGET / HTTP/1.1\r\n\r\n",
			"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r", errBodyFraming},
		{"chunk line with bare LF", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n",
			"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5", errBodyFraming},
		{"chunk size with trailing space", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n",
			"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5 \r", errBodyFraming},
		{"trailer name with a space", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX Y: 1\r\n\r\nGET / HTTP/1.1\r\n\r\n",
			"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX Y: 1\r", errBodyFraming},
		{"trailer line without a colon", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Y\r\n\r\n",
			"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Y\r", errBodyFraming},
		{"chunk data too long", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxx\r\n0\r\n\r\n",
			"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxx", errBodyFraming},
		{"upgrade holds back what follows", "GET / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: x\r\n\r\n\x81\x05hello\r\n\r\n",
			"GET / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: x\r\n\r\n", "", io.EOF},
		{"empty upgrade holds back what follows", "GET / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade:\r\nUpgrade: websocket\r\n\r\nGET /b HTTP/1.1\r\n\r\n",
			"GET / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade:\r\nUpgrade: websocket\r\n\r\n", "", io.EOF},
		{"connect holds back what follows", "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n\x16\x03\x01",
			"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", "", io.EOF},
		{"upgrade with a body", "POST / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: x\r\nContent-Length: 2\r\n\r\nhiGET /b HTTP/1.1\r\n\r\n",
			"POST / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: x\r\nContent-Length: 2\r\n\r\nhi", "", io.EOF},
		{"upgrade not named in connection", "GET / HTTP/1.1\r\nUpgrade: x\r\n\r\nGET /b HTTP/1.1\r\n\r\n",
			"GET / HTTP/1.1\r\nUpgrade: x\r\n\r\nGET /b HTTP/1.1\r\n\r\n", "", io.EOF},
	}
	for _, tc := range tests {
		for _, chunk := range []int{1, 7, len(tc.in)} {
			t.Run(fmt.Sprintf("%s/reads of %d", tc.name, chunk), func(t *testing.T) {
				c := &guardConn{Conn: &scriptConn{data: []byte(tc.in), chunk: chunk}, g: newGuard(nonce, 1<<20)}
				var got bytes.Buffer
				buf := make([]byte, 3)
				var err error
				for err == nil {
					var n int
					n, err = c.Read(buf)
					got.Write(buf[:n])
				}
				switch g := got.String(); {
				case tc.wantMax == "" && g != tc.want:
					t.Errorf("server got\n%q\nwant\n%q", g, tc.want)
				case tc.wantMax != "" && !(strings.HasPrefix(g, tc.want) && strings.HasPrefix(tc.wantMax, g)):
					t.Errorf("server got\n%q\nwant at least\n%q\nand at most\n%q", g, tc.want, tc.wantMax)
				}
				if !errors.Is(err, tc.wantErr) {
					t.Errorf("got error %v, want %v", err, tc.wantErr)
				}
			})
		}
	}
}

func TestUpgradeProtocol(t *testing.T) {
	for _, tc := range []struct {
		values []string
		want   string
	}{
		{[]string{"websocket"}, "websocket"},
		{[]string{"", "websocket"}, "websocket"},
		{[]string{" \t ", "websocket"}, "websocket"},
		{[]string{", websocket ,"}, "websocket"},
		{[]string{"websocket", "WebSocket"}, "websocket"},
		{[]string{"HTTP/2.0"}, "HTTP/2.0"},
		{nil, ""},
		{[]string{""}, ""},
		{[]string{" "}, ""},
		{[]string{"websocket", "h2c"}, ""},
		{[]string{"websocket, h2c"}, ""},
		{[]string{"web socket"}, ""},
		{[]string{"a/b/c"}, ""},
		{[]string{"/1"}, ""},
	} {
		if got := upgradeProtocol(tc.values); got != tc.want {
			t.Errorf("upgradeProtocol(%q): got %q, want %q", tc.values, got, tc.want)
		}
	}
}

// TestGuardConnHijack: what follows a request that may leave HTTP is held back until the
// connection is hijacked, and then handed over as it is; a client that sends too much before
// that is cut off.
func TestGuardConnHijack(t *testing.T) {
	const head = "GET / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n"
	const early = "GET /x HTTP/1.1\r\nX: 1\r\n 2\r\n\r\n"
	c := &guardConn{Conn: &scriptConn{data: []byte(head + early), chunk: 5}, g: newGuard("N", 4096)}
	got, err := readAll(c)
	if got != head || err != io.EOF {
		t.Fatalf("before the hijack the server read %q, %v; want the head and EOF", got, err)
	}
	c = &guardConn{Conn: &scriptConn{data: []byte(head + early), chunk: 5}, g: newGuard("N", 4096)}
	buf := make([]byte, len(head))
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != head {
		t.Fatalf("got %q, %v; want the head", buf, err)
	}
	c.hijacked.Store(true)
	if got, err := readAll(c); got != early || err != io.EOF {
		t.Errorf("after the hijack the tunnel read %q, %v; want %q", got, err, early)
	}

	flood := strings.Repeat("x", maxEarly+1)
	c = &guardConn{Conn: &scriptConn{data: []byte(head + flood), chunk: 1000}, g: newGuard("N", 4096)}
	if got, err := readAll(c); got != head || !errors.Is(err, errEarlyData) {
		t.Errorf("with %d bytes before the answer the server read %q, %v; want the head and %v", len(flood), got, err, errEarlyData)
	}
}

// readAll reads c until an error, in small reads as a server might.
func readAll(c net.Conn) (string, error) {
	var got bytes.Buffer
	buf := make([]byte, 3)
	for {
		n, err := c.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			return got.String(), err
		}
	}
}

// scriptConn is a net.Conn that yields data in reads of at most chunk bytes, then io.EOF.
type scriptConn struct {
	net.Conn
	data  []byte
	chunk int
}

func (c *scriptConn) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.data[:min(c.chunk, len(c.data))])
	c.data = c.data[n:]
	return n, nil
}

func (c *scriptConn) SetReadDeadline(time.Time) error { return nil }

func (c *scriptConn) Close() error { return nil }

func TestNormalizeHost(t *testing.T) {
	for _, tc := range []struct {
		in       string
		keepPort bool
		want     string
	}{
		{"Example.COM", false, "example.com"},
		{"example.com.", false, "example.com"},
		{"Example.com.:808", false, "example.com"},
		{"A.LocalHost:9090", false, "a.localhost"},
		{"Example.com.:808", true, "example.com:808"},
		{"[::1]:80", false, "[::1]"},
		{"[::1]:80", true, "[::1]:80"},
		{"[::1]", false, "[::1]"},
		{"::1", false, "::1"},
		{"", false, ""},
	} {
		if got := normalizeHost(tc.in, tc.keepPort); got != tc.want {
			t.Errorf("normalizeHost(%q, %v): got %q, want %q", tc.in, tc.keepPort, got, tc.want)
		}
	}
}

func TestHasToken(t *testing.T) {
	tests := []struct {
		values []string
		want   bool
	}{
		{[]string{"Upgrade"}, true},
		{[]string{"keep-alive, upgrade"}, true},
		{[]string{"keep-alive", " UPGRADE "}, true},
		{[]string{"upgrades"}, false},
		{nil, false},
	}
	for _, tc := range tests {
		if got := hasToken(tc.values, "upgrade"); got != tc.want {
			t.Errorf("hasToken(%q): got %t, want %t", tc.values, got, tc.want)
		}
	}
}

// FuzzGuardConn checks the guard against Go's own request parser: Go must never parse a request
// that the guard did not check. It reads what the guard hands over with http.ReadRequest, as
// the server does, and counts the requests Go accepts up to the first one that ends HTTP (an
// upgrade or CONNECT) or the first error.
func FuzzGuardConn(f *testing.F) {
	for _, seed := range []string{
		"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1\r\nContent-Length: 2\r\n\r\nhiGET / HTTP/1.1\r\n\r\n",
		"POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /x HTTP/1.1\r\n\r\n",
		"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"POST / HTTP/1.1\r\nContent-Length: 1\r\n\r\nx\r\n\r\nGET / HTTP/1.1\r\n\r\n",
		"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: b\r\n\r\nGET / HTTP/1.1\r\n\r\n",
	} {
		f.Add([]byte(seed), 3)
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk int) {
		chunk = max(1, chunk%64)
		c := &guardConn{Conn: &scriptConn{data: data, chunk: chunk}, g: newGuard("N", 4096)}
		var got bytes.Buffer
		buf := make([]byte, 5)
		for range 10 * (len(data) + 10) {
			n, err := c.Read(buf)
			got.Write(buf[:n])
			if err != nil {
				break
			}
		}
		if !bytes.HasPrefix(data, got.Bytes()) && !bytes.Contains(got.Bytes(), []byte(framingHeader+": N ")) {
			t.Fatalf("server read %q, which is not a prefix of %q", got.Bytes(), data)
		}
		parsed := goRequests(got.Bytes())
		if parsed > c.heads {
			t.Fatalf("Go parsed %d requests from %q, the guard checked %d", parsed, data, c.heads)
		}
	})
}

// goRequests counts the requests that Go's parser reads from b, bodies included, as the server
// would: up to the first error, upgrade or CONNECT.
func goRequests(b []byte) int {
	br := bufio.NewReader(bytes.NewReader(b))
	n, lastPOST := 0, false
	for {
		if lastPOST {
			peek, _ := br.Peek(4)
			for _, c := range peek {
				if c != '\r' && c != '\n' {
					break
				}
				br.ReadByte()
			}
		}
		req, err := http.ReadRequest(br)
		if err != nil {
			return n
		}
		if req.Header.Get(framingHeader) != "" {
			return n // the guard's stand-in, not a request from the client
		}
		if _, err := io.Copy(io.Discard, req.Body); err != nil {
			return n
		}
		n++
		if mayLeaveHTTP(req.Method, req.Header["Connection"]) {
			return n // the guard holds back what follows until a hijack
		}
		lastPOST = req.Method == http.MethodPost
	}
}
