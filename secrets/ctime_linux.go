//go:build linux

package secrets

import (
	"io/fs"
	"syscall"
	"time"
)

// changeTime returns when the file's status (content, size, metadata) last changed.
func changeTime(fi fs.FileInfo) time.Time {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return time.Unix(st.Ctim.Sec, st.Ctim.Nsec)
	}
	return time.Time{}
}
