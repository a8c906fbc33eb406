//go:build !linux

package sdnotify

// monotonicUsec reports no reading: systemd runs on Linux only.
func monotonicUsec() (uint64, bool) { return 0, false }
