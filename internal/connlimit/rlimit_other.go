//go:build !unix

package connlimit

// FileLimit returns 0: the descriptor limit is not known on this system.
func FileLimit() uint64 { return 0 }
