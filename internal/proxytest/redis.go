package proxytest

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

// StartRedis starts a redis-server of the test's own on a free loopback port, without
// persistence, waits until it answers PING, and kills it when the test ends. It returns the
// server's host:port. Without redis-server in PATH the test is skipped.
func StartRedis(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not in PATH; install it (apt-get install redis-server) to run the Redis tests")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))

	var out bytes.Buffer
	cmd := exec.Command(path, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", t.TempDir())
	cmd.Stdout = &out // one writer for both: exec then calls Write from one goroutine at a time
	cmd.Stderr = &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting redis-server: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	deadline := time.After(10 * time.Second)
	for !ping(addr) {
		select {
		case <-exited:
			t.Fatalf("redis-server exited at start:\n%s", out.String())
		case <-deadline:
			t.Fatalf("redis-server did not answer PING within 10s")
		case <-time.After(10 * time.Millisecond):
		}
	}
	return addr
}

// ping sends one PING and reports whether PONG came back.
func ping(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
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

// RedisClient returns a client for addr configured as a proxy should configure it (short
// timeouts, no retries), closed when the test ends.
func RedisClient(t testing.TB, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{
		Addr:            addr,
		DialTimeout:     200 * time.Millisecond,
		ReadTimeout:     200 * time.Millisecond,
		WriteTimeout:    200 * time.Millisecond,
		PoolTimeout:     200 * time.Millisecond,
		MaxRetries:      -1,
		DialerRetries:   1,
		DisableIdentity: true,
	})
	t.Cleanup(func() { _ = c.Close() })
	return c
}
