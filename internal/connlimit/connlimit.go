// Package connlimit limits the client connections a server holds, as Skipper's
// -max-tcp-listener-concurrency and -max-tcp-listener-queue do: a Listener hands at most
// MaxConcurrency connections to the server at once and keeps up to MaxQueue more waiting,
// accepted, for a free slot. Unlike Skipper's, it makes room first by closing connections that
// hold a slot without using it: idle keep-alive connections, which the server reports through
// http.Server.ConnState, and connections that have not sent a first request for a while.
package connlimit

import (
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// DefaultNewGrace is how long a connection may hold a slot without its first request before it
// may be closed to make room, the time Go's http.Server.Shutdown gives such connections.
const DefaultNewGrace = 5 * time.Second

// Options configures a Listener.
type Options struct {
	// MaxConcurrency is how many connections the server holds at once. It must be positive.
	MaxConcurrency int
	// MaxQueue is how many accepted connections may wait for a slot; when one more arrives,
	// the one that waited longest is closed. Zero means none wait: a connection that finds
	// no slot and none to free is closed at once.
	MaxQueue int
	// QueueTimeout closes a connection that waited this long without getting a slot. Zero
	// means no limit.
	QueueTimeout time.Duration
	// NewGrace is how long a connection may hold a slot before the server reports its first
	// request (or, over TLS, before its handshake ends) and still be safe from being closed
	// to make room. If zero, DefaultNewGrace.
	NewGrace time.Duration
}

// Stats is a snapshot of a Listener's connections and of the ones it closed.
type Stats struct {
	Active int // connections the server holds
	Idle   int // of those, the ones the server reported idle
	Queued int // accepted connections not yet handed to the server

	ClosedIdle         uint64 // closed to make room: idle, or without a request past NewGrace
	ClosedQueueFull    uint64 // waited the longest when the queue overflowed
	ClosedQueueTimeout uint64 // waited longer than QueueTimeout
}

// Listener is a net.Listener that limits the connections handed to the server; see the package
// documentation. Give its ConnState method to the http.Server that serves it (it may be wrapped
// by listeners that keep the connections' addresses, such as TLS), or idle connections are not
// known. It is safe for concurrent use.
type Listener struct {
	inner net.Listener
	opts  Options
	errs  chan error    // accept errors of inner, one at a time
	done  chan struct{} // closed by Close
	timer *time.Timer   // runs expire at the next queue or grace deadline

	mu      sync.Mutex
	closed  bool
	active  int
	pending []*conn // accepted, not handed to the server yet; oldest first
	idle    chain   // handed over, reported idle by the server; longest idle first
	fresh   chain   // handed over, no request reported yet; oldest first
	// byAddr finds a connection handed over until the server reports it new; from then on
	// byServer finds it by the server's own connection, which wraps it.
	byAddr   map[string]*conn
	byServer map[net.Conn]*conn
	changed  chan struct{} // closed and replaced when Accept may find a connection to hand over
	stats    Stats
}

// New returns a Listener that accepts from inner and limits as o says. It panics if
// o.MaxConcurrency is not positive or another option is negative: flags are validated before.
func New(inner net.Listener, o Options) *Listener {
	if o.MaxConcurrency <= 0 || o.MaxQueue < 0 || o.QueueTimeout < 0 || o.NewGrace < 0 {
		panic("connlimit: invalid options")
	}
	if o.NewGrace == 0 {
		o.NewGrace = DefaultNewGrace
	}
	l := &Listener{
		inner: inner, opts: o,
		errs: make(chan error), done: make(chan struct{}),
		byAddr: make(map[string]*conn), byServer: make(map[net.Conn]*conn), changed: make(chan struct{}),
	}
	l.timer = time.AfterFunc(time.Hour, l.expire)
	l.timer.Stop()
	go l.acceptLoop()
	return l
}

// Accept returns the newest waiting connection once a slot is free: under overload the newest
// has the best chance that its client still waits, as Skipper's listener reasons.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		l.mu.Lock()
		if c := l.handOverLocked(); c != nil {
			l.mu.Unlock()
			return c, nil
		}
		changed := l.changed
		l.mu.Unlock()
		select {
		case <-changed:
		case err := <-l.errs:
			return nil, err
		case <-l.done:
			return nil, net.ErrClosed
		}
	}
}

// Close stops accepting and closes the connections that wait; those handed to the server stay
// open for the server to finish.
func (l *Listener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return net.ErrClosed
	}
	l.closed = true
	close(l.done)
	l.timer.Stop()
	waiting := l.pending
	l.pending = nil
	for _, c := range waiting {
		c.state = stateClosed
	}
	l.mu.Unlock()
	for _, c := range waiting {
		c.Conn.Close()
	}
	return l.inner.Close()
}

// Addr returns the address of the wrapped listener.
func (l *Listener) Addr() net.Addr { return l.inner.Addr() }

// Stats returns the current counts.
func (l *Listener) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.stats
	s.Active, s.Idle, s.Queued = l.active, l.idle.n, len(l.pending)
	return s
}

// ConnState is meant to be the http.Server's ConnState. It learns which connections are idle;
// when one goes idle while others wait, the longest idle is closed at once to make room. A new
// server connection is matched to the accepted one it wraps by their addresses, which wrappers
// such as TLS keep; later calls find it without building those again.
func (l *Listener) ConnState(sc net.Conn, s http.ConnState) {
	var key string
	if s == http.StateNew {
		if key = addrKey(sc); key == "" {
			return
		}
	}
	var drop []*conn
	l.mu.Lock()
	switch s {
	case http.StateNew:
		if c := l.byAddr[key]; c != nil {
			delete(l.byAddr, key)
			c.key, c.server = "", sc
			l.byServer[sc] = c
		}
	case http.StateActive, http.StateHijacked:
		if c := l.byServer[sc]; c != nil {
			l.moveLocked(c, stateBusy, nil)
		}
	case http.StateIdle:
		if c := l.byServer[sc]; c != nil {
			l.moveLocked(c, stateIdle, &l.idle)
			drop = l.makeRoomLocked(time.Now(), drop)
		}
	case http.StateClosed:
		delete(l.byServer, sc)
	}
	l.mu.Unlock()
	closeAll(drop)
}

// acceptLoop accepts from inner until it fails for good. It hands errors to Accept one at a
// time, so that the server's back-off on temporary errors (running out of descriptors) paces it.
func (l *Listener) acceptLoop() {
	for {
		nc, err := l.inner.Accept()
		if err != nil {
			select {
			case l.errs <- err:
			case <-l.done:
				return
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		l.arrive(nc)
	}
}

// arrive queues a connection just accepted and makes room for it.
func (l *Listener) arrive(nc net.Conn) {
	now := time.Now()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		nc.Close()
		return
	}
	c := &conn{Conn: nc, l: l, state: statePending, since: now}
	l.pending = append(l.pending, c)
	drop := l.makeRoomLocked(now, nil)
	l.notifyLocked()
	l.mu.Unlock()
	closeAll(drop)
}

// expire closes the waiting connections whose time is up and those that a passed grace period
// lets go to make room.
func (l *Listener) expire() {
	now := time.Now()
	var drop []*conn
	l.mu.Lock()
	if to := l.opts.QueueTimeout; to > 0 {
		for len(l.pending) > 0 && !now.Before(l.pending[0].since.Add(to)) {
			drop = append(drop, l.popOldestLocked())
			l.stats.ClosedQueueTimeout++
		}
	}
	drop = l.makeRoomLocked(now, drop)
	l.mu.Unlock()
	closeAll(drop)
}

// makeRoomLocked closes, for every waiting connection beyond the free slots, a connection that
// holds a slot without using it, while there is one; then it closes the longest waiting beyond
// MaxQueue. It returns drop with the connections to close once the lock is released, and sets
// the timer for the next deadline.
func (l *Listener) makeRoomLocked(now time.Time, drop []*conn) []*conn {
	for l.waitingLocked() > 0 {
		c := l.evictableLocked(now)
		if c == nil {
			break
		}
		l.releaseLocked(c)
		l.stats.ClosedIdle++
		drop = append(drop, c)
	}
	for l.waitingLocked() > l.opts.MaxQueue {
		drop = append(drop, l.popOldestLocked())
		l.stats.ClosedQueueFull++
	}
	if len(drop) > 0 {
		l.notifyLocked() // slots were freed
	}
	l.armLocked()
	return drop
}

// popOldestLocked takes the connection that waited longest out of the queue, to be closed.
func (l *Listener) popOldestLocked() *conn {
	c := l.pending[0]
	l.pending[0] = nil // the array may outlive it
	l.pending = l.pending[1:]
	c.state = stateClosed
	return c
}

// waitingLocked is the number of pending connections that find no free slot.
func (l *Listener) waitingLocked() int {
	return len(l.pending) - (l.opts.MaxConcurrency - l.active)
}

// evictableLocked returns the connection to close to make room: the longest idle, else the
// oldest that has had no request for NewGrace; nil when every connection is in use.
func (l *Listener) evictableLocked(now time.Time) *conn {
	if c := l.idle.front(); c != nil {
		return c
	}
	if c := l.fresh.front(); c != nil && !now.Before(c.since.Add(l.opts.NewGrace)) {
		return c
	}
	return nil
}

// armLocked sets the timer for the earliest of: the longest waiting connection's queue
// timeout, and, while connections wait, the end of the oldest fresh connection's grace.
func (l *Listener) armLocked() {
	var next time.Time
	if len(l.pending) > 0 && l.opts.QueueTimeout > 0 {
		next = l.pending[0].since.Add(l.opts.QueueTimeout)
	}
	if c := l.fresh.front(); c != nil && l.waitingLocked() > 0 && l.idle.n == 0 {
		if t := c.since.Add(l.opts.NewGrace); next.IsZero() || t.Before(next) {
			next = t
		}
	}
	if next.IsZero() || l.closed {
		l.timer.Stop()
		return
	}
	l.timer.Reset(time.Until(next))
}

// handOverLocked takes the newest pending connection into a free slot, or returns nil.
func (l *Listener) handOverLocked() *conn {
	if l.closed || len(l.pending) == 0 || l.active >= l.opts.MaxConcurrency {
		return nil
	}
	c := l.pending[len(l.pending)-1]
	l.pending[len(l.pending)-1] = nil
	l.pending = l.pending[:len(l.pending)-1]
	l.active++
	c.since = time.Now()
	c.key = addrKey(c.Conn)
	if other, dup := l.byAddr[c.key]; dup || c.key == "" {
		// Addresses that do not tell connections apart (not TCP): neither can be followed.
		if dup {
			delete(l.byAddr, c.key)
			l.moveLocked(other, stateBusy, nil)
		}
		c.key = ""
		c.state = stateBusy
	} else {
		l.byAddr[c.key] = c
		l.moveLocked(c, stateFresh, &l.fresh)
	}
	l.armLocked()
	return c
}

// moveLocked puts a handed-over connection into state and at the back of to, if set.
func (l *Listener) moveLocked(c *conn, state connState, to *chain) {
	if c.in != nil {
		c.in.remove(c)
	}
	c.state = state
	if to != nil {
		c.since = time.Now()
		to.pushBack(c)
	}
}

// releaseLocked gives a handed-over connection's slot back.
func (l *Listener) releaseLocked(c *conn) {
	l.moveLocked(c, stateClosed, nil)
	if c.key != "" && l.byAddr[c.key] == c {
		delete(l.byAddr, c.key)
	}
	if c.server != nil && l.byServer[c.server] == c {
		delete(l.byServer, c.server)
	}
	l.active--
}

// notifyLocked wakes Accept.
func (l *Listener) notifyLocked() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// closeAll closes the network connections of cs.
func closeAll(cs []*conn) {
	for _, c := range cs {
		c.Conn.Close()
	}
}

// addrKey names a connection by both its addresses, which no two open TCP connections share;
// "" when it has none.
func addrKey(c net.Conn) string {
	local, remote := c.LocalAddr(), c.RemoteAddr()
	if local == nil || remote == nil {
		return ""
	}
	return local.String() + " " + remote.String()
}

// connState is where a connection is in its Listener.
type connState int

const (
	statePending connState = iota // waiting for a slot
	stateFresh                    // handed over, no request seen yet
	stateBusy                     // serving a request, or taken over (a tunnel)
	stateIdle                     // a keep-alive connection between requests
	stateClosed                   // slot given back
)

// conn is a connection accepted by a Listener; closing it gives its slot back.
type conn struct {
	net.Conn
	l *Listener

	// Guarded by l.mu.
	state      connState
	since      time.Time // when it entered its state
	key        string    // its entry in l.byAddr; "" when it has none
	server     net.Conn  // its entry in l.byServer; nil when it has none
	in         *chain    // l.idle or l.fresh, when in one
	prev, next *conn     // in in
}

// chain is a list of connections linked through themselves, so that a connection changing
// state on every request allocates nothing.
type chain struct {
	head, tail *conn
	n          int
}

func (ch *chain) front() *conn { return ch.head }

func (ch *chain) pushBack(c *conn) {
	c.in, c.prev, c.next = ch, ch.tail, nil
	if ch.tail != nil {
		ch.tail.next = c
	} else {
		ch.head = c
	}
	ch.tail = c
	ch.n++
}

func (ch *chain) remove(c *conn) {
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		ch.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	} else {
		ch.tail = c.prev
	}
	c.in, c.prev, c.next = nil, nil, nil
	ch.n--
}

// Close closes the connection and gives its slot back.
func (c *conn) Close() error {
	l := c.l
	l.mu.Lock()
	if c.state != stateClosed && c.state != statePending {
		l.releaseLocked(c)
		l.notifyLocked()
		l.armLocked()
	}
	l.mu.Unlock()
	return c.Conn.Close()
}

// Unwrap returns the connection beneath, with nothing pending: a tunnel copies between the
// connections beneath their wrappers (see forward.Unwrapper). Closing stays with c, which gives
// the slot back.
func (c *conn) Unwrap() (net.Conn, []byte) { return c.Conn, nil }

// CloseWrite half-closes the connection when it can, as *net.TCPConn does.
func (c *conn) CloseWrite() error {
	cw, ok := c.Conn.(interface{ CloseWrite() error })
	if !ok {
		return errors.ErrUnsupported
	}
	return cw.CloseWrite()
}
