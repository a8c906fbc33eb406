package connlimit

// Defaults for a process that may hold nofile descriptors (RLIMIT_NOFILE).
const (
	// ReservedFiles are kept out of the budget for what is not a connection of the listener:
	// the support listener, files and watches of routes, secrets and certificates, Redis,
	// DNS lookups and the runtime's own.
	ReservedFiles = 128
	// MaxDefaultConcurrency caps the default concurrency where the file limit is huge or
	// unknown: at roughly 20 KiB per idle HTTP/1.1 connection, about 1 GiB.
	MaxDefaultConcurrency = 50_000
)

// DefaultConcurrency is the default -max-tcp-listener-concurrency for a process that may open
// nofile descriptors (0: unknown). Every client connection may need one to a backend at the
// same time, so clients get half of what is left after ReservedFiles, and of that half, four
// fifths are served and one fifth may wait (DefaultQueue). It is at least 1 and at most
// MaxDefaultConcurrency.
func DefaultConcurrency(nofile uint64) int {
	if nofile == 0 {
		return MaxDefaultConcurrency
	}
	budget := uint64(0)
	if nofile > ReservedFiles {
		budget = nofile - ReservedFiles
	}
	n := budget / 2 * 4 / 5
	return int(min(max(n, 1), MaxDefaultConcurrency))
}

// DefaultQueue is the default -max-tcp-listener-queue for a concurrency: a quarter of it, at
// least 1. Skipper queues ten times its concurrency, but its concurrency is derived from
// memory; here every waiting connection holds a descriptor, so the queue is kept within the
// budget DefaultConcurrency leaves.
func DefaultQueue(concurrency int) int {
	return max(concurrency/4, 1)
}
