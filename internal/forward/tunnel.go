package forward

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// tunnelBufferSize is the copy buffer of each direction of a tunnel.
const tunnelBufferSize = 32 << 10

var (
	// ErrIdle ends a tunnel in which no byte moved either way for TunnelOptions.IdleTimeout.
	ErrIdle = errors.New("tunnel idle timeout")
	// ErrLifetime ends a tunnel that stayed open for TunnelOptions.MaxLifetime.
	ErrLifetime = errors.New("tunnel lifetime exceeded")
)

// errNoHalfClose reports that one direction ended and the other side cannot be half-closed, so
// the whole tunnel ends; Run does not return it.
var errNoHalfClose = errors.New("half-close not supported")

// TunnelOptions configures Tunnels. Zero values mean "no limit": the proxy's flags supply the
// defaults.
type TunnelOptions struct {
	// Max is the number of tunnels open at once; Acquire refuses beyond it. Zero or less means
	// no limit.
	Max int
	// IdleTimeout closes a tunnel in which no byte moved in either direction for this long.
	// Zero means no idle timeout.
	IdleTimeout time.Duration
	// MaxLifetime closes a tunnel this long after it started, however busy. Zero means none.
	MaxLifetime time.Duration
	// OnBytes, if set, is called after each chunk copied: up counts bytes sent from client to
	// upstream, down bytes from upstream to client (one of them is zero). It is called from the
	// copying goroutines of every tunnel at once, so it must be safe for concurrent use and fast
	// (a metrics counter).
	OnBytes func(up, down int64)
}

// Stats counts the bytes a tunnel carried.
type Stats struct {
	Up   int64 // client to upstream
	Down int64 // upstream to client
}

// Tunnels runs blind TCP tunnels and enforces a limit on how many are open. It is safe for
// concurrent use.
type Tunnels struct {
	opts TunnelOptions
	open atomic.Int64
}

// NewTunnels returns Tunnels configured by o. It fails on negative durations.
func NewTunnels(o TunnelOptions) (*Tunnels, error) {
	if o.IdleTimeout < 0 || o.MaxLifetime < 0 {
		return nil, fmt.Errorf("negative tunnel timeout: idle %s, lifetime %s", o.IdleTimeout, o.MaxLifetime)
	}
	return &Tunnels{opts: o}, nil
}

// Acquire takes a slot for one tunnel without waiting. It returns ok false when Max tunnels are
// already open; the proxy then answers 503. Otherwise the caller must call release once the
// tunnel is closed (or was never opened); calling it again does nothing.
func (t *Tunnels) Acquire() (release func(), ok bool) {
	limit := int64(t.opts.Max)
	for {
		n := t.open.Load()
		if limit > 0 && n >= limit {
			return nil, false
		}
		if t.open.CompareAndSwap(n, n+1) {
			break
		}
	}
	var once sync.Once
	return func() { once.Do(func() { t.open.Add(-1) }) }, true
}

// Open returns the number of slots currently taken, for a gauge.
func (t *Tunnels) Open() int { return int(t.open.Load()) }

// Run copies bytes both ways between client and upstream until the tunnel ends, then closes
// both and returns what it carried. When one side finishes sending, Run half-closes the other
// (CloseWrite, as *net.TCPConn and *tls.Conn offer) and keeps copying the other way; without
// CloseWrite it ends the tunnel. The tunnel also ends on an error in either direction, when ctx
// is done, after IdleTimeout without traffic (ErrIdle) and after MaxLifetime (ErrLifetime).
// The error is nil when both sides finished normally. Run returns only after both copying
// goroutines have ended. It does not take a slot: call Acquire first.
//
// Run first unwraps both connections as far as they implement Unwrapper, sends the bytes the
// wrappers held on to the other side, and then copies between the connections beneath, which it
// reads, writes and half-closes directly; it closes the connections it was given. Deadlines
// already set on either connection are cleared first: a connection taken over from an
// http.Server may carry the server's read or write deadline, which would cut the tunnel.
func (t *Tunnels) Run(ctx context.Context, client, upstream net.Conn) (Stats, error) {
	tn := &tunnel{idle: t.opts.IdleTimeout, onBytes: t.opts.OnBytes}
	tn.touch()
	clientIn, fromClient := unwrapConn(client)
	upstreamIn, fromUpstream := unwrapConn(upstream)
	clientIn.SetDeadline(time.Time{})
	upstreamIn.SetDeadline(time.Time{})
	closeBoth := func() {
		client.Close()
		upstream.Close()
	}
	defer closeBoth()

	var lifetime <-chan time.Time
	if t.opts.MaxLifetime > 0 {
		timer := time.NewTimer(t.opts.MaxLifetime)
		defer timer.Stop()
		lifetime = timer.C
	}
	done := make(chan error, 2)
	go tn.copy(upstreamIn, clientIn, fromClient, &tn.up, true, done)
	go tn.copy(clientIn, upstreamIn, fromUpstream, &tn.down, false, done)

	// The first reason to stop wins; errors the closing itself causes in the other direction
	// ("use of closed network connection") are not reported.
	var first error
	stopped := false
	stop := func(err error) {
		if !stopped {
			stopped, first = true, err
			closeBoth()
		}
	}
	ctxDone := ctx.Done()
	for running := 2; running > 0; {
		select {
		case err := <-done:
			running--
			switch {
			case errors.Is(err, errNoHalfClose):
				stop(nil)
			case err != nil:
				stop(err)
			}
		case <-lifetime:
			lifetime = nil
			stop(ErrLifetime)
		case <-ctxDone:
			ctxDone = nil
			stop(ctx.Err())
		}
	}
	return Stats{Up: tn.up.Load(), Down: tn.down.Load()}, first
}

// tunnel is the state two copying goroutines share.
type tunnel struct {
	idle     time.Duration
	onBytes  func(up, down int64)
	up, down atomic.Int64
	last     atomic.Int64 // unix nanoseconds of the last byte moved either way
}

// touch records traffic now.
func (tn *tunnel) touch() { tn.last.Store(time.Now().UnixNano()) }

// copy moves bytes from src to dst until src ends, counting them in n: first pending, the bytes
// src's wrappers held, then what src yields. On a clean end of src it half-closes dst. A read
// that times out ends the copy with ErrIdle only if the whole tunnel was idle: a download must
// not be cut because the client has nothing to send. It reports its end on done.
func (tn *tunnel) copy(dst, src net.Conn, pending []byte, n *atomic.Int64, isUp bool, done chan<- error) {
	done <- tn.copyLoop(dst, src, pending, n, isUp)
}

// copyLoop copies through a buffer, read by read, as interactive traffic needs. A read that
// fills the whole buffer shows a bulk transfer: between two TCP connections, bulk takes over
// until src pauses.
func (tn *tunnel) copyLoop(dst, src net.Conn, pending []byte, n *atomic.Int64, isUp bool) error {
	if len(pending) > 0 {
		if err := tn.write(dst, pending, n, isUp); err != nil {
			return err
		}
	}
	dstTCP, dstOK := dst.(*net.TCPConn)
	srcTCP, srcOK := src.(*net.TCPConn)
	buf := make([]byte, tunnelBufferSize)
	for {
		if tn.idle > 0 {
			src.SetReadDeadline(time.Unix(0, tn.last.Load()).Add(tn.idle))
		}
		nr, rerr := src.Read(buf)
		if nr > 0 {
			tn.touch()
			if err := tn.write(dst, buf[:nr], n, isUp); err != nil {
				return err
			}
		}
		switch {
		case rerr == nil:
			if nr == len(buf) && dstOK && srcOK {
				if done, err := tn.bulk(dstTCP, srcTCP, n, isUp); done {
					return err
				}
			}
		case errors.Is(rerr, io.EOF):
			return closeWrite(dst)
		case errors.Is(rerr, os.ErrDeadlineExceeded):
			if time.Since(time.Unix(0, tn.last.Load())) < tn.idle {
				continue // the other direction moved bytes meanwhile
			}
			return ErrIdle
		default:
			return rerr
		}
	}
}

// write writes p to dst, which must take it within the idle timeout.
func (tn *tunnel) write(dst net.Conn, p []byte, n *atomic.Int64, isUp bool) error {
	if tn.idle > 0 {
		dst.SetWriteDeadline(time.Now().Add(tn.idle))
	}
	nw, err := dst.Write(p)
	tn.count(n, int64(nw), isUp)
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return ErrIdle
		}
		return err
	}
	tn.touch()
	return nil
}

// bulkStep is the most one step of bulk mode moves, and so the most one write hands the
// receiver: a receiver that takes less than this within the idle timeout ends the tunnel as
// idle (under 900 bytes/s at the default five minutes; the buffered loop's bound is its 32 KiB
// buffer). Each step still moves eight times that buffer with two system calls and no copy.
const bulkStep = 256 << 10

// bulkStepHook, when set by a test, is called after every step of bulk mode with what it moved
// and the error it ended with.
var bulkStepHook func(isUp bool, n int64, err error)

// bulk copies src to dst in steps of up to bulkStep bytes with TCPConn.ReadFrom, which on Linux
// splices: the bytes go from socket to socket through a pipe in the kernel, never through the
// process. It reports done false when src stayed quiet for a short slice, for the buffered loop
// to take over again; otherwise it ends the copy as that loop would and returns its error.
//
// Each step gives src a read deadline of a slice (at most idle/4): splice reads into an empty
// pipe, so a read deadline that fires inside it has moved nothing and loses nothing, and once
// it passed the step ends before its next read. The time of the last traffic, which the other
// direction's idle check reads, thus lags at most a slice and one write behind. The write
// deadline stays the idle timeout: one firing inside splice loses what the pipe held, so the
// tunnel ends then, as idle. One write moves what src had queued (up to bulkStep bytes, where
// the buffered loop writes at most tunnelBufferSize), so a receiver taking fewer bytes than
// that within the idle timeout ends the tunnel as idle.
func (tn *tunnel) bulk(dst, src *net.TCPConn, n *atomic.Int64, isUp bool) (done bool, err error) {
	slice := min(time.Second, tn.idle/4)
	lr := &io.LimitedReader{R: src} // one for all steps: ReadFrom takes it as an io.Reader
	for {
		var writeBy time.Time
		if tn.idle > 0 {
			now := time.Now()
			writeBy = now.Add(tn.idle)
			src.SetReadDeadline(now.Add(slice))
			dst.SetWriteDeadline(writeBy)
		}
		lr.N = bulkStep
		k, err := dst.ReadFrom(lr)
		if k > 0 {
			tn.count(n, k, isUp)
			tn.touch()
		}
		if bulkStepHook != nil {
			bulkStepHook(isUp, k, err)
		}
		switch {
		case err == nil && k == bulkStep:
		case err == nil:
			return true, closeWrite(dst) // src ended
		case errors.Is(err, os.ErrDeadlineExceeded):
			if tn.idle > 0 && !time.Now().Before(writeBy) {
				return true, ErrIdle // dst took nothing more for the idle timeout
			}
			if k == 0 {
				return false, nil // src paused for a slice
			}
		default:
			return true, err
		}
	}
}

// count adds k bytes to n and reports them to onBytes.
func (tn *tunnel) count(n *atomic.Int64, k int64, isUp bool) {
	if k <= 0 {
		return
	}
	n.Add(k)
	if tn.onBytes == nil {
		return
	}
	if isUp {
		tn.onBytes(k, 0)
	} else {
		tn.onBytes(0, k)
	}
}

// closeWrite half-closes c, or returns errNoHalfClose when c cannot.
func closeWrite(c net.Conn) error {
	cw, ok := c.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil {
		return errNoHalfClose
	}
	return nil
}
