package secrets

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// maxSecretSize bounds what is read from one file. Credentials are small; a larger file is
// almost certainly a misconfigured path and is not held in memory.
const maxSecretSize = 1 << 20

// scanError is a reason a file cannot serve as a secret. Its messages never carry content.
type scanError string

func (e scanError) Error() string { return string(e) }

const (
	errIsDir      scanError = "is a directory"
	errNotRegular scanError = "not a regular file"
	errTooLarge   scanError = "larger than 1 MiB"
	errEmpty      scanError = "file is empty"
	errBlank      scanError = "file holds only whitespace"
	errMissing    scanError = "does not exist"
)

// scan builds the snapshot that follows old. A key whose file cannot be used keeps its entry
// from old; a key whose file is gone is dropped.
type scan struct {
	old, next snapshot
	problems  map[string]string // key or credentials path → why it could not be used
	now       time.Time
	held      func(key string) bool // a writer holds key open: keep what old has; nil: none is

	// changedAfter, if not zero, is shortly before the file events were last taken in. A file
	// whose status changed since may be in the middle of a write whose event is not queued yet:
	// the kernel sets the change time before it copies the data, and reports the write after.
	// Such a file keeps its old value, and deferred asks for another scan.
	changedAfter time.Time
	deferred     bool
}

func newScan(old snapshot) *scan {
	return &scan{
		old:      old,
		next:     make(snapshot, len(old)),
		problems: make(map[string]string),
		now:      time.Now(),
	}
}

// path scans one credentials path. A path that held a secret as a file is read as a file even
// if a directory now stands in its place, so the last good value survives that mistake.
func (sc *scan) path(p string) {
	fi, err := os.Stat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		sc.problems[p] = errMissing.Error()
	case err != nil:
		sc.problems[p] = err.Error()
		sc.keepUnder(p)
	case fi.IsDir() && !sc.had(p):
		sc.dir(p)
	default:
		sc.file(p, true)
	}
}

// dir scans the files directly inside d: regular files and symlinks (followed; a link to a
// directory, such as Kubernetes' ..data, is skipped). A subdirectory or special file is not a
// secret, unless it replaced a file that held one.
func (sc *scan) dir(d string) {
	ents, err := os.ReadDir(d)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			sc.problems[d] = errMissing.Error()
			return
		}
		sc.problems[d] = err.Error()
		sc.keepUnder(d)
		return
	}
	for _, de := range ents {
		key := filepath.Join(d, de.Name())
		switch t := de.Type(); {
		case t.IsRegular() || t&fs.ModeSymlink != 0:
			sc.file(key, false)
		case t.IsDir() && sc.had(key):
			sc.fail(key, errIsDir)
		case sc.had(key):
			sc.fail(key, errNotRegular)
		}
	}
}

// file reads the secret at key. named says key is a credentials path itself, for which being
// absent or not a file is worth a warning; inside a directory, such entries are ignored.
func (sc *scan) file(key string, named bool) {
	if sc.held != nil && sc.held(key) {
		// Half of a new value is worse than the old one for a moment: the writer's close
		// brings a rescan.
		sc.keep(key)
		return
	}
	v, changed, err := readSecret(key)
	switch {
	case err == nil && sc.inFlux(changed):
		sc.keep(key)
		sc.deferred = true
	case err == nil:
		sc.put(key, v)
	case errors.Is(err, fs.ErrNotExist):
		if named {
			sc.problems[key] = errMissing.Error()
		}
	case (errors.Is(err, errIsDir) || errors.Is(err, errNotRegular)) && !named && !sc.had(key):
	default:
		sc.fail(key, err)
	}
}

// put records data, read from key, with one trailing newline trimmed. An unchanged value keeps
// its entry, so LoadedAt tells when the value last changed.
func (sc *scan) put(key string, data []byte) {
	if _, ok := sc.next[key]; ok {
		return // two credentials paths name the same file
	}
	switch {
	case len(data) == 0:
		sc.fail(key, errEmpty)
		return
	case len(bytes.TrimSpace(data)) == 0:
		sc.fail(key, errBlank)
		return
	}
	v := Secret(trimNewline(data))
	if o, ok := sc.old[key]; ok && bytes.Equal(o.value, v) {
		sc.next[key] = o
		return
	}
	sc.next[key] = entry{value: v, loadedAt: sc.now}
}

// fail records why key cannot be used, and keeps its last good value if it has one.
func (sc *scan) fail(key string, err error) {
	sc.problems[key] = err.Error()
	if o, ok := sc.old[key]; ok {
		sc.next[key] = o
	}
}

// inFlux reports whether a file whose status changed at changed may still be being written.
// A change time further ahead than the scan itself is clock skew (a network file system), not a
// write in progress.
func (sc *scan) inFlux(changed time.Time) bool {
	return !sc.changedAfter.IsZero() && changed.After(sc.changedAfter) && changed.Before(time.Now().Add(changeSkew))
}

// changeSkew is how far a file's change time may lag the clock: file systems stamp it from a
// coarse clock that ticks every few milliseconds.
const changeSkew = 20 * time.Millisecond

// keep gives key its entry from old, or leaves it out if it had none.
func (sc *scan) keep(key string) {
	if o, ok := sc.old[key]; ok {
		sc.next[key] = o
	} else {
		delete(sc.next, key)
	}
}

// keepUnder keeps every old entry read from p, or from a file directly inside p, when p itself
// cannot be examined: not knowing is not revocation.
func (sc *scan) keepUnder(p string) {
	clean := filepath.Clean(p)
	for k, e := range sc.old {
		if _, ok := sc.next[k]; ok {
			continue
		}
		if k == p || filepath.Dir(k) == clean {
			sc.next[k] = e
		}
	}
}

func (sc *scan) had(key string) bool {
	_, ok := sc.old[key]
	return ok
}

// readSecret reads the regular file at path, and returns when its status last changed as seen
// after the read (zero where the system does not say). It opens without blocking, so a named
// pipe put in a secret's place cannot stall the scan, and checks the type on the open file, so a
// swap between a stat and the open cannot fool it.
func readSecret(path string) (_ []byte, changed time.Time, _ error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, changed, err
	}
	defer f.Close()
	fi, err := f.Stat()
	switch {
	case err != nil:
		return nil, changed, err
	case fi.IsDir():
		return nil, changed, errIsDir
	case !fi.Mode().IsRegular():
		return nil, changed, errNotRegular
	case fi.Size() > maxSecretSize:
		return nil, changed, errTooLarge
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSecretSize+1))
	if err != nil {
		return nil, changed, err
	}
	if len(data) > maxSecretSize {
		return nil, changed, errTooLarge
	}
	if fi, err := f.Stat(); err == nil {
		changed = changeTime(fi)
	}
	return data, changed, nil
}

// trimNewline removes exactly one trailing "\n" or "\r\n".
func trimNewline(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n > 1 && b[n-2] == '\r' {
			b = b[:n-2]
		}
	}
	return b
}
