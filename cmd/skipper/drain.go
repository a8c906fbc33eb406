package main

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// keepAliveDrain is how long, once skipper stops accepting connections at SIGTERM, the client
// connections still open may carry one more request (answered with Connection: close) before
// Shutdown closes those still idle. Busy clients leave within a request's time and end the
// wait early; only a client that stays quiet for all of it can still have its idle connection
// closed as it sends.
//
// Answers ask clients to close only once the listener is closed: a client told so during
// -wait-for-healthcheck-interval would connect again for every request, and whichever
// connections sat in the listener's queue when it closed would be reset, after their request
// was sent.
const keepAliveDrain = time.Second

// connCounter counts the client connections an http.Server serves, as its ConnState reports
// them; hijacked ones (tunnels, upgrades) no longer count. It is safe for concurrent use.
type connCounter struct {
	mu    sync.Mutex
	open  int
	empty []chan struct{} // closed when open drops to zero
}

// hook returns a ConnState hook that counts connections and then calls next, if any.
func (c *connCounter) hook(next func(net.Conn, http.ConnState)) func(net.Conn, http.ConnState) {
	return func(conn net.Conn, s http.ConnState) {
		c.count(s)
		if next != nil {
			next(conn, s)
		}
	}
}

func (c *connCounter) count(s http.ConnState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch s {
	case http.StateNew:
		c.open++
	case http.StateClosed, http.StateHijacked:
		c.open--
		if c.open == 0 {
			for _, ch := range c.empty {
				close(ch)
			}
			c.empty = nil
		}
	}
}

// none returns a channel that is closed once no connection is open: at once if none is.
func (c *connCounter) none() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan struct{})
	if c.open == 0 {
		close(ch)
		return ch
	}
	c.empty = append(c.empty, ch)
	return ch
}

// onceCloseListener is a net.Listener whose Close closes the listener it wraps only the first
// time, so that the stopper can stop accepting before Shutdown, which closes it again.
type onceCloseListener struct {
	net.Listener
	once sync.Once
	err  error
}

func (l *onceCloseListener) Close() error {
	l.once.Do(func() { l.err = l.Listener.Close() })
	return l.err
}
