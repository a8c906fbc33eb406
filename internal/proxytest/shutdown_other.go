//go:build !linux

package proxytest

import "net"

// ShutdownWrite shuts down c's sending side (a FIN). On Linux it also waits until the peer has
// acknowledged it; here TCP's state cannot be read.
func ShutdownWrite(c *net.TCPConn) error { return c.CloseWrite() }
