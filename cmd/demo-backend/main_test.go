package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/poll"
	"github.com/skipper-egress/skipper/internal/syncbuf"
)

// TestMain runs main instead of the tests when asked to, so that a test can start this binary
// as the demo backend.
func TestMain(m *testing.M) {
	if os.Getenv("DEMO_BACKEND_RUN_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func backend(ctx context.Context, t *testing.T, args ...string) (*exec.Cmd, *syncbuf.Buffer) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, self, args...)
	cmd.Env = append(os.Environ(), "DEMO_BACKEND_RUN_MAIN=1")
	out := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, out
}

// TestPortTakenFailsBeforeSayingItEchoes: the demo script must not be told "echoing requests"
// by a backend that could not bind its port.
func TestPortTakenFailsBeforeSayingItEchoes(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd, out := backend(ctx, t, "-address", taken.Addr().String())
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("got %v, want exit status 1; output:\n%s", err, out)
	}
	want := "demo-backend: cannot listen on " + taken.Addr().String() + ": "
	if got := out.String(); !strings.Contains(got, want) || strings.Contains(got, "echoing") {
		t.Errorf("got output %q, want %q and no claim of echoing requests", got, want)
	}
}

func TestSaysItEchoesOnceBound(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, out := backend(ctx, t, "-address", "127.0.0.1:0")
	addr := regexp.MustCompile(`echoing requests on http://(127\.0\.0\.1:[0-9]+)\n`)
	poll.Until(t, 10*time.Second, "the echoing line", func() bool { return addr.MatchString(out.String()) })
	url := "http://" + addr.FindStringSubmatch(out.String())[1] + "/hello"
	res, err := http.Get(url)
	if err != nil {
		t.Fatalf("got %v, want the backend answering on the address it printed", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if !strings.HasPrefix(string(body), "GET /hello HTTP/1.1\n") {
		t.Errorf("got body %q, want the request echoed", body)
	}
}
