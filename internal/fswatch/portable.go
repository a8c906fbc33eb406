package fswatch

import (
	"errors"
	"sync"

	"github.com/fsnotify/fsnotify"
)

// NewPortable returns a Watcher backed by fsnotify, on any system fsnotify supports. It does not
// report CloseWrite. New uses it where inotify is not available; on Linux, tests use it to
// exercise what callers do without CloseWrite.
func NewPortable() (*Watcher, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	events, errs := make(chan Event), make(chan error)
	p := &portable{w: fw, done: make(chan struct{}), exited: make(chan struct{})}
	go p.translate(events, errs)
	return &Watcher{Events: events, Errors: errs, b: p}, nil
}

// portable wraps an fsnotify.Watcher, translating its events.
type portable struct {
	w      *fsnotify.Watcher
	once   sync.Once
	done   chan struct{} // closed by close: stop sending
	exited chan struct{} // closed when translate has returned
}

func (p *portable) add(dir string) error {
	select {
	case <-p.done:
		return ErrClosed
	default:
		return p.w.Add(dir)
	}
}

func (p *portable) remove(dir string) error { return p.w.Remove(dir) }
func (p *portable) watchList() []string     { return p.w.WatchList() }

func (p *portable) flush() ([]Event, error) { return nil, nil }

func (p *portable) close() error {
	var err error
	p.once.Do(func() {
		close(p.done)
		err = p.w.Close()
		<-p.exited
	})
	return err
}

// translate is the goroutine that passes fsnotify's events and errors on as ours.
func (p *portable) translate(events chan<- Event, errs chan<- error) {
	defer close(p.exited)
	defer close(errs)
	defer close(events)
	in, inErrs := p.w.Events, p.w.Errors
	for in != nil {
		select {
		case e, ok := <-in:
			if !ok {
				return
			}
			if op := portableOp(e.Op); op != 0 {
				select {
				case events <- Event{Name: e.Name, Op: op}:
				case <-p.done:
					return
				}
			}
		case err, ok := <-inErrs:
			if !ok {
				inErrs = nil
				continue
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				err = ErrOverflow
			}
			select {
			case errs <- err:
			case <-p.done:
				return
			}
		case <-p.done:
			return
		}
	}
}

func portableOp(o fsnotify.Op) Op {
	var op Op
	for _, m := range []struct {
		from fsnotify.Op
		to   Op
	}{{fsnotify.Create, Create}, {fsnotify.Write, Write}, {fsnotify.Remove, Remove}, {fsnotify.Rename, Rename}, {fsnotify.Chmod, Chmod}} {
		if o.Has(m.from) {
			op |= m.to
		}
	}
	return op
}
