package h1

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// peek receives into b without taking anything from the socket fd and without waiting. It calls
// recvfrom(2) with no address, as unix.Recvfrom would allocate room for one on every call.
func peek(fd int, b []byte) (int, error) {
	n, _, errno := unix.Syscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)),
		unix.MSG_PEEK|unix.MSG_DONTWAIT, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}
