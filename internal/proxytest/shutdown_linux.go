package proxytest

import (
	"errors"
	"net"
	"time"

	"golang.org/x/sys/unix"
)

// ShutdownWrite shuts down c's sending side (a FIN) and returns once the peer has acknowledged
// it: a read on the peer's end then returns EOF at once, so a test that goes on to tell a client
// "the backend closed the connection" does not race the peer's kernel. Where TCP's state cannot
// be read, it returns after the shutdown.
func ShutdownWrite(c *net.TCPConn) error {
	if err := c.CloseWrite(); err != nil {
		return err
	}
	raw, err := c.SyscallConn()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		var state uint8
		var serr error
		if err := raw.Control(func(fd uintptr) {
			var info *unix.TCPInfo
			if info, serr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO); serr == nil {
				state = info.State
			}
		}); err != nil {
			return err
		}
		if serr != nil {
			return serr
		}
		// FIN_WAIT1 (4), LAST_ACK (9) and CLOSING (11) wait for the FIN's acknowledgement.
		if state != 4 && state != 9 && state != 11 {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("the peer did not acknowledge the FIN within 10s")
		}
		<-tick.C
	}
}
