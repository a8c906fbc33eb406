package proxy_test

import (
	"bufio"
	"crypto/sha1"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/poll"
	"github.com/skipper-egress/skipper/internal/proxy"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

// TestHTTPSListenerHTTP2 serves HTTPS: a client that offers HTTP/2 gets it, one that does not
// gets HTTP/1.1, and over HTTP/2 trailers pass and a server-sent event stream arrives event by
// event.
func TestHTTPSListenerHTTP2(t *testing.T) {
	next := make(chan struct{})
	backend := proxytest.NewBackend(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/events":
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "data: one\n\n")
			w.(http.Flusher).Flush()
			select {
			case <-next:
			case <-r.Context().Done():
				return
			}
			io.WriteString(w, "data: two\n\n")
		default:
			w.Header().Set("Trailer", "X-Checksum")
			io.WriteString(w, "body")
			w.Header().Set("X-Checksum", "abc")
		}
	})
	p := proxytest.New(t, fmt.Sprintf(`* -> "http://%s"`, backend.Addr()), proxytest.Options{TLS: true})

	res, err := p.Client().Get(p.URL + "/trailers")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.ProtoMajor != 2 || string(body) != "body" {
		t.Errorf("got %s %q, want HTTP/2.0 \"body\"", res.Proto, body)
	}
	if got := res.Trailer.Get("X-Checksum"); got != "abc" {
		t.Errorf("got trailer X-Checksum %q over HTTP/2, want abc", got)
	}
	if got := backend.Last(t).Proto; got != "HTTP/1.1" {
		t.Errorf("backend saw %s, want HTTP/1.1", got)
	}

	h1conf := p.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	h1conf.NextProtos = nil // the HTTP/2 client added h2 to the shared config
	h1 := &http.Client{Transport: &http.Transport{TLSClientConfig: h1conf}}
	defer h1.CloseIdleConnections()
	res, err = h1.Get(p.URL + "/h1")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.ProtoMajor != 1 || res.StatusCode != http.StatusOK {
		t.Errorf("a client without HTTP/2 got %s %d, want HTTP/1.1 200", res.Proto, res.StatusCode)
	}

	res, err = p.Client().Get(p.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for _, want := range []string{"data: one", "data: two"} {
		got := scanEvent(t, sc)
		if got != want {
			t.Fatalf("got event %q, want %q", got, want)
		}
		if want == "data: one" {
			close(next) // the backend sends the second event only now
		}
	}
}

// scanEvent returns the next non-empty line of an event stream, failing the test after 10s.
func scanEvent(t *testing.T, sc *bufio.Scanner) string {
	t.Helper()
	line := make(chan string, 1)
	go func() {
		for sc.Scan() {
			if sc.Text() != "" {
				line <- sc.Text()
				return
			}
		}
		line <- "(end of stream: " + fmt.Sprint(sc.Err()) + ")"
	}()
	select {
	case l := <-line:
		return l
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s: the proxy held it back")
		return ""
	}
}

// TestWebSocketEcho opens a WebSocket through the proxy, over plain HTTP and over HTTPS: the
// route's filters run on the upgrade request, and messages echo both ways until the client
// closes.
func TestWebSocketEcho(t *testing.T) {
	for _, mode := range []string{"http", "https"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			tok := writeSecret(t, dir, "token", canary+"-ws")
			backend := proxytest.NewBackend(t, wsEcho)
			p := proxytest.New(t, fmt.Sprintf(`* -> bearerinjector(%q) -> "http://%s"`, tok, backend.Addr()),
				proxytest.Options{TLS: mode == "https", CredentialsPaths: []string{dir}})

			conn := dialRaw(t, p)
			key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
			fmt.Fprintf(conn, "GET /chat HTTP/1.1\r\nHost: ws.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"+
				"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n\r\n", key)
			br := bufio.NewReader(conn)
			res, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != http.StatusSwitchingProtocols || res.Header.Get("Sec-WebSocket-Accept") != wsAccept(key) ||
				!strings.EqualFold(res.Header.Get("Upgrade"), "websocket") || !strings.EqualFold(res.Header.Get("Connection"), "upgrade") {
				t.Fatalf("got %d %v, want 101 with the upgrade headers\n%s", res.StatusCode, res.Header, p.Log())
			}
			got := backend.Last(t)
			if got.Header.Get("Authorization") != "Bearer "+canary+"-ws" || got.Header.Get("Upgrade") != "websocket" {
				t.Errorf("backend saw Authorization %q Upgrade %q, want the injected token and websocket",
					got.Header.Get("Authorization"), got.Header.Get("Upgrade"))
			}
			for _, msg := range []string{"hello", strings.Repeat("x", 300), strings.Repeat("y", 70000)} {
				if err := wsWrite(conn, 1, []byte(msg), true); err != nil {
					t.Fatal(err)
				}
				op, echo, err := wsRead(br)
				if err != nil || op != 1 || string(echo) != msg {
					t.Fatalf("got opcode %d, %d bytes, %v; want the %d-byte text message back", op, len(echo), err, len(msg))
				}
			}
			wsWrite(conn, 8, nil, true) // close
			if op, _, err := wsRead(br); err != nil || op != 8 {
				t.Errorf("got opcode %d, %v after close, want the close frame back", op, err)
			}
			if _, err := br.ReadByte(); err != io.EOF {
				t.Errorf("got %v after the close handshake, want EOF", err)
			}
			// The backend has closed; the tunnel ends once the client closes too, as RFC 6455
			// §7.1.1 has it do after the server's TCP close (until then the tunnel is half-closed).
			conn.Close()
			poll.Until(t, 5*time.Second, "access log line of the tunnel", func() bool {
				return strings.Contains(p.Log(), `"GET /chat HTTP/1.1" 101`)
			})
			checkNoCanary(t, p)
		})
	}
}

// TestUpgradeNotSwitched: when the backend answers an upgrade request with something other
// than 101, the client gets that answer and the connection is closed after it.
func TestUpgradeNotSwitched(t *testing.T) {
	backend := proxytest.NewBackend(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no upgrades here", http.StatusForbidden)
	})
	p := proxytest.New(t, fmt.Sprintf(`* -> "http://%s"`, backend.Addr()), proxytest.Options{})
	conn := dialRaw(t, p)
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("got %d, want the backend's 403", res.StatusCode)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("got %v after the answer, want EOF: the connection must not carry another request", err)
	}
}

const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11" // RFC 6455 §1.3

func wsAccept(key string) string {
	h := sha1.Sum([]byte(key + wsGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

// wsEcho is a minimal WebSocket server (RFC 6455) that echoes every message until a close.
func wsEcho(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		http.Error(w, "not a websocket request", http.StatusBadRequest)
		return
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	fmt.Fprintf(conn, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
		wsAccept(r.Header.Get("Sec-WebSocket-Key")))
	for {
		op, payload, err := wsRead(brw.Reader)
		if err != nil {
			return
		}
		if err := wsWrite(conn, op, payload, false); err != nil || op == 8 {
			return
		}
	}
}

// wsWrite writes one unfragmented frame, masked as a client must mask.
func wsWrite(w io.Writer, op byte, payload []byte, mask bool) error {
	hdr := []byte{0x80 | op}
	var m byte
	if mask {
		m = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		hdr = append(hdr, m|byte(n))
	case n < 1<<16:
		hdr = append(hdr, m|126)
		hdr = binary.BigEndian.AppendUint16(hdr, uint16(n))
	default:
		hdr = append(hdr, m|127)
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(n))
	}
	if mask {
		key := [4]byte{0x12, 0x34, 0x56, 0x78}
		hdr = append(hdr, key[:]...)
		masked := make([]byte, len(payload))
		for i, b := range payload {
			masked[i] = b ^ key[i%4]
		}
		payload = masked
	}
	_, err := w.Write(append(hdr, payload...))
	return err
}

// wsRead reads one unfragmented frame and unmasks it.
func wsRead(r io.Reader) (op byte, payload []byte, err error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, err
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		_, err = io.ReadFull(r, b[:])
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		_, err = io.ReadFull(r, b[:])
		n = binary.BigEndian.Uint64(b[:])
	}
	var key [4]byte
	if err == nil && h[1]&0x80 != 0 {
		_, err = io.ReadFull(r, key[:])
	}
	if err != nil || n > 1<<20 {
		return 0, nil, fmt.Errorf("bad frame: %v", err)
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, err
	}
	if h[1]&0x80 != 0 {
		for i := range payload {
			payload[i] ^= key[i%4]
		}
	}
	return h[0] & 0x0f, payload, nil
}

// TestBackendProtocols reaches an h2c backend over HTTP/2 with prior knowledge, and an https
// backend whose certificate only a CA bundle can verify: over HTTP/2, as its handshake offers,
// for a request with a body or whose client takes trailers, and over HTTP/1.1 for the rest.
func TestBackendProtocols(t *testing.T) {
	echoProto := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Proto+" "+r.Host+" "+r.Header.Get("Accept-Encoding"))
		w.Header().Set(http.TrailerPrefix+"Grpc-Status", "0") // undeclared, as gRPC servers send it
	})
	h2c := httptest.NewUnstartedServer(echoProto)
	h2c.Config.Protocols = new(http.Protocols)
	h2c.Config.Protocols.SetUnencryptedHTTP2(true)
	h2c.Start()
	defer h2c.Close()
	tlsBackend := httptest.NewUnstartedServer(echoProto)
	tlsBackend.EnableHTTP2 = true
	tlsBackend.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake the proxy refuses
	tlsBackend.StartTLS()
	defer tlsBackend.Close()
	tlsAddr := tlsBackend.Listener.Addr().String()

	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsBackend.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	roots, err := proxy.SystemRootsWith(caFile)
	if err != nil {
		t.Fatal(err)
	}
	routes := fmt.Sprintf(`h2c: Host("h2c") -> "h2c://%s"; tls: Host("tls") -> "https://%s";`, h2c.Listener.Addr(), tlsAddr)

	// The client speaks HTTP/2 to the proxy too, as a gRPC client would.
	withCA := proxytest.New(t, routes, proxytest.Options{TLS: true, Transport: proxy.TransportOptions{RootCAs: roots}})
	for host, want := range map[string]string{
		"h2c": "HTTP/2.0 " + h2c.Listener.Addr().String() + " ", // no Accept-Encoding added
		"tls": "HTTP/2.0 " + tlsAddr + " ",
	} {
		res, body := withCA.Do(t, "GET", host, "/", "TE", "trailers")
		if res.StatusCode != http.StatusOK || body != want {
			t.Errorf("%s: got %d %q, want 200 %q", host, res.StatusCode, body, want)
		}
		if got := res.Trailer.Get("Grpc-Status"); got != "0" || res.ProtoMajor != 2 {
			t.Errorf("%s: got trailer Grpc-Status %q over %s, want 0 over HTTP/2.0", host, got, res.Proto)
		}
	}
	if res, body := withCA.Do(t, "GET", "tls", "/"); res.StatusCode != http.StatusOK || body != "HTTP/1.1 "+tlsAddr+" " {
		t.Errorf("tls without a body: got %d %q, want 200 over HTTP/1.1", res.StatusCode, body)
	}
	req, _ := http.NewRequest("POST", withCA.URL+"/", strings.NewReader("body"))
	req.Host = "tls"
	res, err := withCA.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(body) != "HTTP/2.0 "+tlsAddr+" " {
		t.Errorf("tls with a body: got %d %q, want 200 over HTTP/2.0", res.StatusCode, body)
	}

	withoutCA := proxytest.New(t, routes, proxytest.Options{})
	if res, _ := withoutCA.Do(t, "GET", "tls", "/"); res.StatusCode != http.StatusBadGateway {
		t.Errorf("https backend with an unknown CA: got %d, want 502", res.StatusCode)
	}
	if _, err := proxy.SystemRootsWith(filepath.Join(t.TempDir(), "missing.pem")); err == nil {
		t.Error("SystemRootsWith accepted a missing file")
	}
}

// TestExpectContinue sends "Expect: 100-continue": the body goes through when the backend
// reads it, and is never sent when the backend answers before reading.
func TestExpectContinue(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/reject" {
			http.Error(w, "too big", http.StatusExpectationFailed)
			return
		}
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "got %d bytes", len(b))
	}))
	defer backend.Close()
	p := proxytest.New(t, fmt.Sprintf(`* -> "http://%s"`, backend.Listener.Addr()), proxytest.Options{})
	client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: 10 * time.Second}}
	defer client.CloseIdleConnections()

	tests := []struct {
		path     string
		wantCode int
		wantBody string
		wantRead bool
	}{
		{"/accept", http.StatusOK, "got 5 bytes", true},
		{"/reject", http.StatusExpectationFailed, "too big\n", false},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			body := &watchedReader{r: strings.NewReader("hello")}
			req, _ := http.NewRequest("POST", p.URL+tc.path, body)
			req.ContentLength = 5
			req.Header.Set("Expect", "100-continue")
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tc.wantCode || string(got) != tc.wantBody {
				t.Errorf("got %d %q, want %d %q", res.StatusCode, got, tc.wantCode, tc.wantBody)
			}
			if read := body.read.Load(); read != tc.wantRead {
				t.Errorf("the client's body was read: %t, want %t", read, tc.wantRead)
			}
		})
	}
}

// watchedReader records whether it was read.
type watchedReader struct {
	r    io.Reader
	read atomic.Bool
}

func (w *watchedReader) Read(p []byte) (int, error) {
	w.read.Store(true)
	return w.r.Read(p)
}

func TestHostOptions(t *testing.T) {
	backend := proxytest.NewBackend(t, nil)
	routes := fmt.Sprintf(`Host("^api[.]example[.]com(:[0-9]+)?$") -> "http://%s"`, backend.Addr())
	tests := []struct {
		name     string
		opts     proxytest.Options
		host     string
		wantCode int
		wantHost string // the Host the backend saw
	}{
		{"backend's own host", proxytest.Options{}, "api.example.com", 200, backend.Addr()},
		{"preserve host", proxytest.Options{PreserveHost: true}, "api.example.com:8080", 200, "api.example.com:8080"},
		{"no normalization", proxytest.Options{}, "API.Example.com.", 404, ""},
		{"normalize host", proxytest.Options{NormalizeHost: true}, "API.Example.com.", 200, backend.Addr()},
		{"normalize and preserve", proxytest.Options{NormalizeHost: true, PreserveHost: true}, "API.Example.COM.:8080", 200, "api.example.com"},
		{"default status", proxytest.Options{NoRouteStatus: http.StatusForbidden}, "other.example.com", 403, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := proxytest.New(t, routes, tc.opts)
			before := len(backend.Received())
			res, body := p.Do(t, "GET", tc.host, "/")
			if res.StatusCode != tc.wantCode {
				t.Fatalf("got %d %q, want %d", res.StatusCode, body, tc.wantCode)
			}
			if tc.wantCode != 200 {
				if want := http.StatusText(tc.wantCode) + "\n"; body != want {
					t.Errorf("got body %q, want %q", body, want)
				}
				return
			}
			if len(backend.Received()) != before+1 {
				t.Fatal("backend got no request")
			}
			if got := backend.Last(t).Host; got != tc.wantHost {
				t.Errorf("backend saw Host %q, want %q", got, tc.wantHost)
			}
		})
	}
}

// TestRequestTrailers checks that the trailer fields of a chunked upload reach the backend.
func TestRequestTrailers(t *testing.T) {
	got := make(chan string, 1)
	backend := proxytest.NewBackend(t, func(w http.ResponseWriter, r *http.Request) {
		got <- r.Trailer.Get("X-Sum") // NewBackend has read the body: the trailer is in
	})
	p := proxytest.New(t, fmt.Sprintf(`* -> "http://%s"`, backend.Addr()), proxytest.Options{})

	req, err := http.NewRequest(http.MethodPost, p.URL+"/upload", io.MultiReader(strings.NewReader("part1"), strings.NewReader("part2")))
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = -1 // chunked: trailers need it
	req.Trailer = http.Header{"X-Sum": {"42"}}
	res, err := p.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("got status %d, want 200", res.StatusCode)
	}
	if v := <-got; v != "42" {
		t.Errorf("backend got trailer X-Sum %q, want 42", v)
	}
	if body := string(backend.Last(t).Body); body != "part1part2" {
		t.Errorf("backend got body %q, want part1part2", body)
	}
}

// TestNormalizeHostMatching checks -normalize-host as Skipper's: the Host is lower-cased and
// loses its port and trailing dot before matching, so an anchored Host predicate matches.
func TestNormalizeHostMatching(t *testing.T) {
	backend := proxytest.NewBackend(t, nil)
	routes := fmt.Sprintf(`r: Host(/^a[.]localhost$/) -> "http://%s"`, backend.Addr())
	plain := proxytest.New(t, routes, proxytest.Options{})
	normal := proxytest.New(t, routes, proxytest.Options{NormalizeHost: true})
	for _, host := range []string{"A.LocalHost:9090", "a.localhost.", "a.localhost.:80", "a.localhost"} {
		if res, body := normal.Do(t, http.MethodGet, host, "/"); res.StatusCode != http.StatusOK {
			t.Errorf("Host %q with -normalize-host: got %d %q, want 200", host, res.StatusCode, body)
		}
	}
	if res, _ := plain.Do(t, http.MethodGet, "A.LocalHost:9090", "/"); res.StatusCode != http.StatusNotFound {
		t.Errorf("Host %q without -normalize-host: got %d, want 404", "A.LocalHost:9090", res.StatusCode)
	}
	if n := len(backend.Received()); n != 4 {
		t.Errorf("backend got %d requests, want 4", n)
	}
}

// TestBackendRefusingHTTP1 reaches an https backend that speaks HTTP/2 alone and says so in its
// handshake: requests without a body, which would go over HTTP/1.1, go over HTTP/2 instead, and
// only the first costs a refused handshake.
func TestBackendRefusingHTTP1(t *testing.T) {
	cert, roots := proxytest.NewCert(t, "127.0.0.1")
	var hellos, refused atomic.Int32
	b := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Proto)
	}))
	b.EnableHTTP2 = true
	b.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	b.TLS = &tls.Config{
		Certificates: []tls.Certificate{cert},
		GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			hellos.Add(1)
			if !slices.Contains(hello.SupportedProtos, "h2") {
				refused.Add(1)
				// Nothing in common and no h2 to fall back from: no_application_protocol.
				return &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2-only"}}, nil
			}
			return nil, nil
		},
	}
	b.StartTLS()
	defer b.Close()

	p := proxytest.New(t, `Host("h2only") -> "`+b.URL+`"`, proxytest.Options{Transport: proxy.TransportOptions{RootCAs: roots}})
	for i := range 3 {
		if res, body := p.Do(t, "GET", "h2only", "/"); res.StatusCode != http.StatusOK || body != "HTTP/2.0" {
			t.Fatalf("request %d: got %d %q, want 200 over HTTP/2.0", i, res.StatusCode, body)
		}
	}
	if h, r := hellos.Load(), refused.Load(); h != 2 || r != 1 {
		t.Errorf("%d handshakes, %d refused; want 2, 1: the refusal is remembered", h, r)
	}
}
