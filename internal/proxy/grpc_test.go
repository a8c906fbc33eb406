package proxy_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

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
