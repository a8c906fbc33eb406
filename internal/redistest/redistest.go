// Package redistest runs a redis-server of a test's own, for the tests of everything that shares
// state through Redis.
package redistest

import (
	"bufio"
	"bytes"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is a redis-server process of the test's own, on a free loopback port, without
// persistence. Stop kills it as a crash would; Restart brings it back, empty, on the same port.
type Server struct {
	t      testing.TB
	path   string
	dir    string
	port   int
	cmd    *exec.Cmd
	exited chan struct{}
	out    bytes.Buffer
}

// Start starts a redis-server for t and stops it when t ends. Without redis-server in PATH
// the test is skipped.
func Start(t testing.TB) *Server {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not in PATH; install it (apt-get install redis-server) to run the Redis tests")
	}
	s := &Server{t: t, path: path, dir: t.TempDir(), port: freePort(t)}
	s.start()
	t.Cleanup(s.Stop)
	return s
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Restart runs redis-server again on the same port, empty, and waits until it answers PING.
func (s *Server) Restart() { s.start() }

// start runs redis-server and waits until it answers PING.
func (s *Server) start() {
	s.t.Helper()
	s.out.Reset()
	s.cmd = exec.Command(s.path, "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir)
	s.cmd.Stdout = &s.out // one writer for both: exec then calls Write from one goroutine at a time
	s.cmd.Stderr = &s.out
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("starting redis-server: %v", err)
	}
	exited := make(chan struct{})
	s.exited = exited
	go func(cmd *exec.Cmd) {
		_ = cmd.Wait()
		close(exited)
	}(s.cmd)

	deadline := time.Now().Add(10 * time.Second)
	for !s.ping() {
		select {
		case <-exited:
			s.cmd = nil
			s.t.Fatalf("redis-server exited at start:\n%s", s.out.String())
		default:
		}
		if time.Now().After(deadline) {
			s.Stop()
			s.t.Fatalf("redis-server did not answer PING within 10s:\n%s", s.out.String())
		}
		select {
		case <-exited:
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// ping sends one PING and reports whether PONG came back.
func (s *Server) ping() bool {
	c, err := net.DialTimeout("tcp", s.Addr(), 100*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && line == "+PONG\r\n"
}

// Stop kills redis-server, if it runs, and waits for it to exit.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

// Client returns a client for the server, as NewClient does.
func (s *Server) Client(t testing.TB) *redis.Client { return NewClient(t, s.Addr()) }

// NewClient returns a go-redis client for addr with short timeouts and no retries, as a proxy
// should configure it, closed when the test ends.
func NewClient(t testing.TB, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{
		Addr:            addr,
		DialTimeout:     200 * time.Millisecond,
		ReadTimeout:     200 * time.Millisecond,
		WriteTimeout:    200 * time.Millisecond,
		PoolTimeout:     200 * time.Millisecond,
		PoolSize:        8,
		MaxRetries:      -1,
		DialerRetries:   1,
		DisableIdentity: true,
	})
	t.Cleanup(func() { _ = c.Close() })
	return c
}
