//go:build unix

package connlimit

import "syscall"

// FileLimit returns how many descriptors the process may open (the soft RLIMIT_NOFILE, which
// Go raises to the hard limit at start), or 0 when that is unknown or unlimited.
func FileLimit() uint64 {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0
	}
	cur := uint64(r.Cur) // int64 on some systems
	if cur >= 1<<62 {    // RLIM_INFINITY, however the system spells it
		return 0
	}
	return cur
}
