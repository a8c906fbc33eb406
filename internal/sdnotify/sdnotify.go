// Package sdnotify tells systemd how the service is doing, for units of Type=notify: it sends
// sd_notify(3) state lines as one datagram to the unix socket that systemd names in the
// NOTIFY_SOCKET environment variable. Outside systemd the variable is unset and every function
// does nothing, so callers need no check of their own.
//
// The functions read the environment on each call and keep no state; they are safe for
// concurrent use.
package sdnotify

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

// SocketEnv is the environment variable through which systemd names its notification socket: a
// file-system path, or a name in Linux's abstract namespace written with a leading '@'.
const SocketEnv = "NOTIFY_SOCKET"

// writeTimeout bounds a send: systemd drains its socket promptly, and a stuck manager must not
// stall the caller's start-up or shutdown.
const writeTimeout = time.Second

// ErrUnsupportedSocket is returned for a NOTIFY_SOCKET that names no unix socket, such as
// systemd's "vsock:" addresses for virtual machines.
var ErrUnsupportedSocket = errors.New("unsupported notify socket address")

// Ready tells systemd that start-up has finished, or that a reload has: the listener is open and
// requests are served. With Type=notify, systemd holds back units ordered after this one until
// it arrives.
func Ready() error { return Notify("READY=1") }

// Stopping tells systemd that shutdown has begun.
func Stopping() error { return Notify("STOPPING=1") }

// Reloading tells systemd that the service is reloading its configuration; call Ready when the
// reload is done. The message carries the monotonic clock's reading (where known), which
// Type=notify-reload units need to match the reload to its request.
func Reloading() error {
	state := "RELOADING=1"
	if usec, ok := monotonicUsec(); ok {
		state += fmt.Sprintf("\nMONOTONIC_USEC=%d", usec)
	}
	return Notify(state)
}

// Notify sends state, newline-separated VARIABLE=value assignments as in sd_notify(3), to the
// socket named by NOTIFY_SOCKET. When the variable is unset or empty it does nothing and returns
// nil. The variable is left in place, so that later notifications, such as Ready after a
// reload, reach systemd too.
func Notify(state string) error {
	socket := os.Getenv(SocketEnv)
	if socket == "" {
		return nil
	}
	return send(socket, state)
}

// send writes state as one datagram to socket. Go's net package maps a leading '@' to Linux's
// abstract namespace (a leading NUL byte), which is what systemd means by it.
func send(socket, state string) error {
	if !strings.HasPrefix(socket, "/") && !strings.HasPrefix(socket, "@") {
		return fmt.Errorf("sdnotify: %s=%q: %w", SocketEnv, socket, ErrUnsupportedSocket)
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: socket, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("sdnotify: %w", err)
	}
	defer conn.Close()
	if err := conn.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
		return fmt.Errorf("sdnotify: %w", err)
	}
	if _, err := conn.Write([]byte(state)); err != nil {
		return fmt.Errorf("sdnotify: %w", err)
	}
	return nil
}
