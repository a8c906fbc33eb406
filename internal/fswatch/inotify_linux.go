//go:build linux

package fswatch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// New returns a Watcher backed by inotify, which reports CloseWrite.
func New() (*Watcher, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("inotify_init1: %w", err)
	}
	events, errs := make(chan Event), make(chan error)
	file := os.NewFile(uintptr(fd), "inotify")
	raw, err := file.SyscallConn()
	if err != nil {
		file.Close()
		return nil, err
	}
	in := &inotify{
		// A non-blocking descriptor goes to the runtime's poller, so Close wakes up a Read
		// that waits for events. Fd() would make it blocking again, hence fd is kept apart.
		file:     file,
		raw:      raw,
		fd:       fd,
		events:   events,
		errs:     errs,
		recv:     events,
		recvErrs: errs,
		flushed:  make(chan struct{}),
		done:     make(chan struct{}),
		exited:   make(chan struct{}),
		paths:    make(map[int32][]string),
		wds:      make(map[string]int32),
	}
	go in.readEvents()
	return &Watcher{Events: events, Errors: errs, closes: true, b: in}, nil
}

// watchMask is what every watch asks for. IN_ONLYDIR: only directories are watched.
const watchMask = unix.IN_CREATE | unix.IN_MOVED_TO | unix.IN_MOVED_FROM | unix.IN_DELETE |
	unix.IN_MODIFY | unix.IN_ATTRIB | unix.IN_CLOSE_WRITE |
	unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ONLYDIR

// inotify is the Linux backend: one inotify instance and the goroutine that reads it.
type inotify struct {
	file     *os.File
	raw      syscall.RawConn // file's descriptor, for reads that must not wait
	fd       int
	events   chan<- Event
	errs     chan<- error
	recv     <-chan Event // the receiving ends of events and errs, for flush
	recvErrs <-chan error
	flushed  chan struct{} // readEvents says here that a flush is complete
	done     chan struct{} // closed by close: stop sending
	exited   chan struct{} // closed when readEvents has returned

	mu     sync.Mutex
	closed bool
	paths  map[int32][]string // watch descriptor → the directory names it was added under
	wds    map[string]int32   // directory name → watch descriptor
}

func (in *inotify) add(dir string) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed {
		return ErrClosed
	}
	wd, err := unix.InotifyAddWatch(in.fd, dir, watchMask)
	if err != nil {
		return &os.PathError{Op: "inotify_add_watch", Path: dir, Err: err}
	}
	w := int32(wd)
	if old, ok := in.wds[dir]; ok && old != w {
		in.forget(dir) // the name now leads to another directory
	}
	in.wds[dir] = w
	if !slices.Contains(in.paths[w], dir) {
		// The same directory under two names (a symlink) has one watch; report under both.
		in.paths[w] = append(in.paths[w], dir)
	}
	return nil
}

func (in *inotify) remove(dir string) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed {
		return nil
	}
	if _, ok := in.wds[dir]; !ok {
		return fmt.Errorf("fswatch: %s is not watched", dir)
	}
	in.forget(dir)
	return nil
}

// forget drops dir, and the kernel's watch once no name uses it. in.mu must be held.
func (in *inotify) forget(dir string) {
	w := in.wds[dir]
	delete(in.wds, dir)
	rest := slices.DeleteFunc(in.paths[w], func(p string) bool { return p == dir })
	if len(rest) > 0 {
		in.paths[w] = rest
		return
	}
	delete(in.paths, w)
	// EINVAL: the kernel dropped the watch already (the directory is gone).
	_, _ = unix.InotifyRmWatch(in.fd, uint32(w))
}

func (in *inotify) watchList() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := make([]string, 0, len(in.wds))
	for d := range in.wds {
		out = append(out, d)
	}
	slices.Sort(out)
	return out
}

func (in *inotify) close() error {
	in.mu.Lock()
	if in.closed {
		in.mu.Unlock()
		return nil
	}
	in.closed = true
	in.mu.Unlock()
	close(in.done)
	err := in.file.Close()
	<-in.exited
	return err
}

// readEvents is the reading goroutine: it decodes what inotify reports and sends it on, until
// the watcher is closed or reading fails. A read deadline in the past is flush's request to pass
// on everything the kernel holds now and then say so.
func (in *inotify) readEvents() {
	defer close(in.exited)
	defer close(in.errs)
	defer close(in.events)
	// Room for many events at once; an event is 16 bytes plus its name, at most NAME_MAX+1.
	buf := make([]byte, 64*1024)
	for {
		n, err := in.file.Read(buf)
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			if !in.drain(buf) {
				return
			}
			continue
		case err != nil:
			if !errors.Is(err, os.ErrClosed) {
				in.sendError(fmt.Errorf("reading inotify events: %w", err))
			}
			return
		}
		if !in.decode(buf[:n]) {
			return
		}
	}
}

// drain passes on every event the kernel has queued, without waiting for more, then tells
// flush it is done. It reports false once the watcher is closed.
func (in *inotify) drain(buf []byte) bool {
	_ = in.file.SetReadDeadline(time.Time{})
	for {
		var n int
		var rerr error
		err := in.raw.Read(func(fd uintptr) bool {
			n, rerr = unix.Read(int(fd), buf)
			return true // never wait for readiness: this read must not block
		})
		if rerr == unix.EINTR {
			continue
		}
		if err != nil || rerr != nil || n <= 0 {
			break // EAGAIN: nothing more is queued
		}
		if !in.decode(buf[:n]) {
			return false
		}
	}
	select {
	case in.flushed <- struct{}{}:
		return true
	case <-in.done:
		return false
	}
}

// flush returns the events, and the first error, that the kernel had queued before the call and
// that were not yet received from the watcher's channels.
func (in *inotify) flush() ([]Event, error) {
	in.mu.Lock()
	closed := in.closed
	in.mu.Unlock()
	if closed {
		return nil, nil
	}
	// Wakes readEvents at once, whether it waits for events or is about to.
	if err := in.file.SetReadDeadline(time.Unix(1, 0)); err != nil {
		return nil, nil
	}
	var (
		got      []Event
		firstErr error
	)
	for {
		select {
		case e, ok := <-in.recv:
			if !ok {
				return got, firstErr
			}
			got = append(got, e)
		case err, ok := <-in.recvErrs:
			if ok && firstErr == nil {
				firstErr = err
			}
		case <-in.flushed:
			return got, firstErr
		}
	}
}

// decode handles the events in b, which holds whole events as one read returned them. It
// reports false once the watcher is closed.
func (in *inotify) decode(b []byte) bool {
	for off := 0; off+unix.SizeofInotifyEvent <= len(b); {
		raw := rawEvent{
			wd:   int32(binary.NativeEndian.Uint32(b[off:])),
			mask: binary.NativeEndian.Uint32(b[off+4:]),
		}
		nameLen := int(binary.NativeEndian.Uint32(b[off+12:]))
		off += unix.SizeofInotifyEvent
		if off+nameLen > len(b) {
			return in.sendError(errors.New("fswatch: truncated inotify event"))
		}
		raw.name = cString(b[off : off+nameLen])
		off += nameLen
		if !in.handle(raw) {
			return false
		}
	}
	return true
}

type rawEvent struct {
	wd   int32
	mask uint32
	name string
}

// cString returns b up to its first NUL: inotify pads names with NULs.
func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// handle turns one inotify event into Events and keeps the watch table current. It reports
// false once the watcher is closed.
func (in *inotify) handle(raw rawEvent) bool {
	if raw.mask&unix.IN_Q_OVERFLOW != 0 {
		return in.sendError(ErrOverflow)
	}
	in.mu.Lock()
	dirs := slices.Clone(in.paths[raw.wd])
	switch {
	case raw.mask&(unix.IN_IGNORED|unix.IN_UNMOUNT) != 0:
		// The kernel dropped the watch (directory deleted, file system unmounted, or our own
		// inotify_rm_watch): forget it so WatchList no longer lists it.
		if raw.mask&unix.IN_IGNORED != 0 {
			in.dropWatch(raw.wd)
		}
	case raw.mask&unix.IN_MOVE_SELF != 0:
		// The directory moved away: the watch follows it, but nothing at the watched name is
		// watched any more. Drop it, so that WatchList tells the owner to watch the name anew.
		for _, d := range dirs {
			in.forget(d)
		}
	}
	in.mu.Unlock()
	if len(dirs) == 0 || raw.mask&unix.IN_IGNORED != 0 {
		return true
	}
	op := opOf(raw.mask)
	if op == 0 {
		return true
	}
	for _, d := range dirs {
		name := d
		if raw.name != "" {
			name = filepath.Join(d, raw.name)
		}
		if !in.send(Event{Name: name, Op: op}) {
			return false
		}
	}
	return true
}

// dropWatch forgets every name of a watch the kernel has dropped. in.mu must be held.
func (in *inotify) dropWatch(wd int32) {
	for _, d := range in.paths[wd] {
		if in.wds[d] == wd {
			delete(in.wds, d)
		}
	}
	delete(in.paths, wd)
}

func opOf(mask uint32) Op {
	var op Op
	if mask&(unix.IN_CREATE|unix.IN_MOVED_TO) != 0 {
		op |= Create
	}
	if mask&unix.IN_MODIFY != 0 {
		op |= Write
	}
	if mask&(unix.IN_DELETE|unix.IN_DELETE_SELF|unix.IN_UNMOUNT) != 0 {
		op |= Remove
	}
	if mask&(unix.IN_MOVED_FROM|unix.IN_MOVE_SELF) != 0 {
		op |= Rename
	}
	if mask&unix.IN_ATTRIB != 0 {
		op |= Chmod
	}
	if mask&unix.IN_CLOSE_WRITE != 0 {
		op |= CloseWrite
	}
	return op
}

func (in *inotify) send(e Event) bool {
	select {
	case in.events <- e:
		return true
	case <-in.done:
		return false
	}
}

func (in *inotify) sendError(err error) bool {
	select {
	case in.errs <- err:
		return true
	case <-in.done:
		return false
	}
}
