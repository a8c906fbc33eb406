//go:build darwin || freebsd || netbsd || openbsd || dragonfly

package h1

import "golang.org/x/sys/unix"

// peek receives into b without taking anything from the socket fd and without waiting.
func peek(fd int, b []byte) (int, error) {
	n, _, err := unix.Recvfrom(fd, b, unix.MSG_PEEK|unix.MSG_DONTWAIT)
	return n, err
}
