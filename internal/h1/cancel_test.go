package h1_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/h1"
)

// deadlineHookConn runs hook before the first read deadline that is set to a time (not cleared),
// and reports each SetDeadline call, which is how an interrupt lands, on interrupted.
type deadlineHookConn struct {
	net.Conn
	once        sync.Once
	hook        func()
	interrupted chan struct{}
}

func (c *deadlineHookConn) SetReadDeadline(d time.Time) error {
	if !d.IsZero() {
		c.once.Do(c.hook)
	}
	return c.Conn.SetReadDeadline(d)
}

func (c *deadlineHookConn) SetDeadline(d time.Time) error {
	err := c.Conn.SetDeadline(d)
	select {
	case c.interrupted <- struct{}{}:
	default:
	}
	return err
}

// TestCancelBeforeHeaderDeadline: a cancellation that lands after the request was flushed and
// before the response-header deadline is set still ends the exchange at once (issue 11, finding
// 3). The hook cancels the request at exactly that point and waits until the cancellation's
// interrupt has reached the connection, so the deadline is set after it, every time.
func TestCancelBeforeHeaderDeadline(t *testing.T) {
	s := newScripted(t, func(n int, c net.Conn, stop <-chan struct{}) bool {
		<-stop // never answer while the test runs
		return false
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tr := h1.New(h1.Options{
		ResponseHeaderTimeout: time.Hour,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			c := &deadlineHookConn{Conn: nc, interrupted: make(chan struct{}, 1)}
			c.hook = func() {
				cancel()
				<-c.interrupted
			}
			return c, nil
		},
	})
	t.Cleanup(tr.CloseIdleConnections)

	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url(), nil)
	done := make(chan error, 1)
	go func() {
		res, err := tr.RoundTrip(req)
		if err == nil {
			res.Body.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("RoundTrip still waiting 10s after its cancellation: the header deadline overwrote it")
	}
}
