package proxy_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/skipper-egress/skipper/internal/proxytest"
	"github.com/skipper-egress/skipper/internal/syncbuf"
)

// The gRPC servers in these tests, one on grpc-go and one on grpcio (gRPC C-core), serve
// test.Echo/Echo, which answers "echo:" and the request's bytes, and test.Echo/Fail, which fails
// with PERMISSION_DENIED "denied" before sending anything: a trailers-only answer. Neither needs
// generated code; messages are raw bytes.
var grpcServers = []string{"grpc-go", "grpcio"}

// TestGRPC calls each gRPC server through an h2c:// route with grpc-go's client over the proxy's
// TLS listener. grpcio refuses any call whose request lacks "TE: trailers" ("Missing :te header"),
// which the proxy used to remove with the other hop-by-hop headers.
func TestGRPC(t *testing.T) {
	for _, kind := range grpcServers {
		t.Run(kind, func(t *testing.T) {
			addr := startGRPCServer(t, kind)
			p := proxytest.New(t, fmt.Sprintf(`* -> "h2c://%s"`, addr), proxytest.Options{TLS: true})
			conn, err := grpc.NewClient("passthrough:///"+p.Listener.Addr().String(),
				grpc.WithTransportCredentials(credentials.NewTLS(proxyTLS(p))))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()

			in, out := []byte("hello"), []byte(nil)
			if err := conn.Invoke(ctx, "/test.Echo/Echo", &in, &out, grpc.ForceCodec(rawCodec{})); err != nil {
				t.Fatalf("Echo: %v\n%s", err, p.Log())
			}
			if string(out) != "echo:hello" {
				t.Errorf("Echo answered %q, want %q", out, "echo:hello")
			}
			err = conn.Invoke(ctx, "/test.Echo/Fail", &in, &out, grpc.ForceCodec(rawCodec{}))
			if s := status.Convert(err); s.Code() != codes.PermissionDenied || s.Message() != "denied" {
				t.Errorf("Fail: got %v, want PermissionDenied \"denied\"", err)
			}
		})
	}
}

// TestGRPCAnswersAsSent sends the same calls, frame by frame, to each gRPC server directly and
// through the proxy: the proxy's answer must be the server's, header block by header block. A
// failed call's trailers-only answer (one HEADERS frame that ends the stream and carries
// grpc-status) used to gain "content-length: 0" and "date".
func TestGRPCAnswersAsSent(t *testing.T) {
	for _, kind := range grpcServers {
		t.Run(kind, func(t *testing.T) {
			addr := startGRPCServer(t, kind)
			p := proxytest.New(t, fmt.Sprintf(`* -> "h2c://%s"`, addr), proxytest.Options{TLS: true})
			for _, method := range []string{"/test.Echo/Fail", "/test.Echo/Echo"} {
				direct := h2Call(t, dialH2C(t, addr), "http", addr, method)
				proxied := h2Call(t, dialH2TLS(t, p), "https", addr, method)
				if method == "/test.Echo/Fail" && (len(direct) != 1 || !strings.Contains(direct[0], "grpc-status: 7")) {
					t.Fatalf("%s: the server's own answer is not trailers-only:\n%s", method, strings.Join(direct, "\n"))
				}
				if !slices.Equal(proxied, direct) {
					t.Errorf("%s through the proxy:\n%s\nwant the server's own answer:\n%s", method,
						strings.Join(proxied, "\n"), strings.Join(direct, "\n"))
				}
			}
		})
	}
}

// rawCodec passes messages as raw bytes: values are *[]byte.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) {
	b, ok := v.(*[]byte)
	if !ok {
		return nil, fmt.Errorf("rawCodec: cannot marshal %T", v)
	}
	return *b, nil
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	b, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("rawCodec: cannot unmarshal into %T", v)
	}
	*b = append((*b)[:0], data...)
	return nil
}

// Name is the content-subtype the client sends: application/grpc+proto, which every server takes.
func (rawCodec) Name() string { return "proto" }

// startGRPCServer starts a gRPC server of the kind named, serving until the test ends, and
// returns its address.
func startGRPCServer(t *testing.T, kind string) string {
	t.Helper()
	if kind == "grpcio" {
		return startGRPCio(t)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer(grpc.ForceServerCodec(rawCodec{}), grpc.UnknownServiceHandler(grpcGoEcho))
	go s.Serve(ln) //nolint:errcheck // returns when Stop closes ln
	t.Cleanup(s.Stop)
	return ln.Addr().String()
}

func grpcGoEcho(_ any, stream grpc.ServerStream) error {
	method, _ := grpc.MethodFromServerStream(stream)
	var in []byte
	if err := stream.RecvMsg(&in); err != nil {
		return err
	}
	switch method {
	case "/test.Echo/Echo":
		out := append([]byte("echo:"), in...)
		return stream.SendMsg(&out)
	case "/test.Echo/Fail":
		return status.Error(codes.PermissionDenied, "denied")
	}
	return status.Errorf(codes.Unimplemented, "no method %s", method)
}

// startGRPCio runs testdata/grpcio_server.py until the test ends and returns its address. It
// skips the test when no python3 has grpcio (Debian: python3-grpcio), except in CI.
func startGRPCio(t *testing.T) string {
	t.Helper()
	cmd := exec.Command(grpcioPython(t), "testdata/grpcio_server.py")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &syncbuf.Buffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	port := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Scan()
		port <- sc.Text() // "" when the server ended first
	}()
	t.Cleanup(func() {
		stdin.Close() // the server stops when its input ends
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	select {
	case p := <-port:
		if p == "" {
			t.Fatalf("the grpcio server printed no port:\n%s", stderr)
		}
		return "127.0.0.1:" + p
	case <-time.After(30 * time.Second):
		t.Fatalf("the grpcio server printed no port within 30s:\n%s", stderr)
		return ""
	}
}

// grpcioPython returns a python3 that imports grpc: the one on PATH, or Debian's, which a pyenv
// or venv earlier on PATH may hide.
func grpcioPython(t *testing.T) string {
	t.Helper()
	var tried []string
	for _, name := range []string{"python3", "/usr/bin/python3"} {
		path, err := exec.LookPath(name)
		if err != nil {
			tried = append(tried, err.Error())
			continue
		}
		out, err := exec.Command(path, "-c", "import grpc").CombinedOutput()
		if err == nil {
			return path
		}
		lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
		tried = append(tried, fmt.Sprintf("%s -c 'import grpc': %v: %s", path, err, lines[len(lines)-1]))
	}
	msg := "no python3 with grpcio; install it (Debian: apt-get install python3-grpcio): " + strings.Join(tried, "; ")
	if os.Getenv("CI") == "true" {
		t.Fatal(msg) // CI installs it: a missing grpcio there is a broken setup, not a skip
	}
	t.Skip(msg)
	return ""
}

// proxyTLS returns a client TLS configuration that trusts p's certificate.
func proxyTLS(p *proxytest.Proxy) *tls.Config {
	return &tls.Config{RootCAs: p.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
}

func dialH2C(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func dialH2TLS(t *testing.T, p *proxytest.Proxy) net.Conn {
	t.Helper()
	conf := proxyTLS(p)
	conf.NextProtos = []string{"h2"}
	c, err := tls.Dial("tcp", p.Listener.Addr().String(), conf)
	if err != nil {
		t.Fatal(err)
	}
	if proto := c.ConnectionState().NegotiatedProtocol; proto != "h2" {
		t.Fatalf("negotiated %q, want h2", proto)
	}
	return c
}

// h2Call makes a unary gRPC call to method with the message "hello" on c, a fresh HTTP/2
// connection, and closes c. It returns what came back on the call's stream: one line per header
// block (its fields sorted, so that the order a server writes them in does not count) and one per
// run of DATA frames (their bytes together), each marked when it ends the stream.
func h2Call(t *testing.T, c net.Conn, scheme, authority, method string) []string {
	t.Helper()
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.Write([]byte(http2.ClientPreface)); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(c, c)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	for _, f := range [][2]string{
		{":method", "POST"}, {":scheme", scheme}, {":authority", authority}, {":path", method},
		{"content-type", "application/grpc"}, {"te", "trailers"},
	} {
		enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	msg := binary.BigEndian.AppendUint32([]byte{0}, 5) // not compressed, 5 bytes
	msg = append(msg, "hello"...)
	err := fr.WriteSettings()
	if err == nil {
		err = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block.Bytes(), EndHeaders: true})
	}
	if err == nil {
		err = fr.WriteData(1, true, msg)
	}
	if err != nil {
		t.Fatal(err)
	}

	var got []string
	var data []byte
	inData := false
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("reading the answer to %s: %v; so far:\n%s", method, err, strings.Join(got, "\n"))
		}
		if f.Header().StreamID != 0 && f.Header().StreamID != 1 {
			continue
		}
		end := false
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				err = fr.WriteSettingsAck()
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				err = fr.WritePing(true, f.Data)
			}
		case *http2.GoAwayFrame:
			t.Fatalf("GOAWAY %v answering %s; so far:\n%s", f.ErrCode, method, strings.Join(got, "\n"))
		case *http2.RSTStreamFrame:
			return append(got, "RST_STREAM "+f.ErrCode.String())
		case *http2.MetaHeadersFrame:
			if inData {
				got, data, inData = append(got, fmt.Sprintf("DATA %q", data)), nil, false
			}
			fields := make([]string, 0, len(f.Fields))
			for _, hf := range f.Fields {
				fields = append(fields, hf.Name+": "+hf.Value)
			}
			slices.Sort(fields)
			got = append(got, "HEADERS "+strings.Join(fields, "; "))
			end = f.StreamEnded()
		case *http2.DataFrame:
			data, inData = append(data, f.Data()...), true
			end = f.StreamEnded()
		}
		if err != nil {
			t.Fatal(err)
		}
		if end {
			if inData {
				got = append(got, fmt.Sprintf("DATA %q", data))
			}
			got[len(got)-1] += " (END_STREAM)"
			return got
		}
	}
}
