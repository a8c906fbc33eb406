package sdnotify

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// listen opens a datagram socket at name, points NOTIFY_SOCKET at it and returns it.
func listen(t *testing.T, name string) *net.UnixConn {
	t.Helper()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatalf("listening on %q: %v", name, err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv(SocketEnv, name)
	return conn
}

// receive reads one datagram, waiting at most five seconds.
func receive(t *testing.T, conn *net.UnixConn) string {
	t.Helper()
	if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	n, _, err := conn.ReadFromUnix(buf)
	if err != nil {
		t.Fatalf("reading the notification: %v", err)
	}
	return string(buf[:n])
}

func TestNotifications(t *testing.T) {
	tests := []struct {
		name string
		send func() error
		want string
	}{
		{"ready", Ready, "READY=1"},
		{"stopping", Stopping, "STOPPING=1"},
		{"custom", func() error { return Notify("STATUS=serving 3 routes\nREADY=1") }, "STATUS=serving 3 routes\nREADY=1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conn := listen(t, filepath.Join(t.TempDir(), "notify.sock"))
			if err := tc.send(); err != nil {
				t.Fatalf("got error %v, want nil", err)
			}
			if got := receive(t, conn); got != tc.want {
				t.Errorf("got datagram %q, want %q", got, tc.want)
			}
		})
	}
}

func TestReloadingCarriesMonotonicTime(t *testing.T) {
	conn := listen(t, filepath.Join(t.TempDir(), "notify.sock"))
	before, haveClock := monotonicUsec()
	if err := Reloading(); err != nil {
		t.Fatalf("got error %v, want nil", err)
	}
	after, _ := monotonicUsec()
	got := receive(t, conn)

	if !haveClock {
		if got != "RELOADING=1" {
			t.Errorf("got datagram %q, want %q", got, "RELOADING=1")
		}
		return
	}
	first, stamp, ok := strings.Cut(got, "\n")
	if first != "RELOADING=1" || !ok || !strings.HasPrefix(stamp, "MONOTONIC_USEC=") {
		t.Fatalf("got datagram %q, want RELOADING=1 and MONOTONIC_USEC=N", got)
	}
	usec, err := strconv.ParseUint(strings.TrimPrefix(stamp, "MONOTONIC_USEC="), 10, 64)
	if err != nil {
		t.Fatalf("MONOTONIC_USEC in %q: %v", got, err)
	}
	if usec < before || usec > after {
		t.Errorf("got MONOTONIC_USEC=%d, want between %d and %d", usec, before, after)
	}
}

func TestAbstractSocket(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("abstract unix sockets are Linux only")
	}
	name := fmt.Sprintf("@skipper-sdnotify-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	conn := listen(t, name)
	if err := Ready(); err != nil {
		t.Fatalf("got error %v, want nil", err)
	}
	if got := receive(t, conn); got != "READY=1" {
		t.Errorf("got datagram %q, want %q", got, "READY=1")
	}
	// '@' must mean the abstract namespace, not a file named "@..." in the working directory.
	if _, err := os.Lstat(name); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got Lstat(%q) error %v, want no such file", name, err)
	}
}

func TestSocketProblems(t *testing.T) {
	tests := []struct {
		name    string
		socket  string
		wantErr error // nil: no error at all
		wantAny bool  // some error, of no particular kind
	}{
		{name: "unset is a no-op", socket: ""},
		{name: "vsock address", socket: "vsock:2:1234", wantErr: ErrUnsupportedSocket},
		{name: "relative path", socket: "notify.sock", wantErr: ErrUnsupportedSocket},
		{name: "no such socket", socket: filepath.Join(t.TempDir(), "missing.sock"), wantAny: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(SocketEnv, tc.socket)
			err := Ready()
			switch {
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Errorf("got error %v, want %v", err, tc.wantErr)
			case tc.wantAny && err == nil:
				t.Error("got nil error, want one")
			case tc.wantErr == nil && !tc.wantAny && err != nil:
				t.Errorf("got error %v, want nil", err)
			}
		})
	}
}
