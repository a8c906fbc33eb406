// Command connload is the load client of the scenarios wrk cannot drive: it opens connections
// through a forward proxy with CONNECT (or straight to a TCP relay), optionally speaks TLS inside
// the tunnel, and sends keep-alive HTTP/1.1 GETs. It prints one line of key=value results for
// the load script to read:
//
//	-mode=load:  units=N rate=N/s p50=µs p99=µs errors=N   (units are requests, or MiB of body
//	             with -mib: then rate is MiB/s)
//	-mode=first: first_p50 first_p99 repeat_p50 repeat_p99 extra_p50 extra_p99 (µs) errors;
//	             each of -hosts names (-connect with %d) gets a first connection and request, then a
//	             second one, and "extra" is, per host, the first's latency less the repeat's
//	-mode=get:   the body of one GET, for checking what reached the backend
package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

const ioTimeout = 5 * time.Second

type config struct {
	dial    string // where the TCP connection goes
	connect string // CONNECT authority sent first; empty for none
	host    string // Host header; the CONNECT authority by default
	path    string
	tls     *tls.Config // nil for plaintext inside the tunnel
}

func main() {
	mode := flag.String("mode", "load", "load, first or get")
	dial := flag.String("dial", "", "address of the proxy (or relay) to connect to")
	connect := flag.String("connect", "", "authority to CONNECT to (with %d in -mode=first); empty to speak HTTP at once")
	host := flag.String("host", "", "Host header (default: the CONNECT authority)")
	path := flag.String("path", "/", "path to GET")
	useTLS := flag.Bool("tls", false, "speak TLS inside the tunnel, with the CONNECT host as server name")
	caFile := flag.String("ca", "", "PEM CA trusted for -tls")
	conns := flag.Int("conns", 50, "connections (-mode=load)")
	duration := flag.Duration("duration", 10*time.Second, "how long to send requests (-mode=load)")
	mib := flag.Bool("mib", false, "count MiB of body instead of requests (-mode=load)")
	hosts := flag.Int("hosts", 200, "new hosts to visit (-mode=first)")
	flag.Parse()
	if *dial == "" {
		log.Fatal("-dial is required")
	}
	cfg := config{dial: *dial, connect: *connect, host: *host, path: *path}
	if *useTLS {
		pem, err := os.ReadFile(*caFile)
		if err != nil {
			log.Fatal(err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			log.Fatalf("no certificate in %s", *caFile)
		}
		// No session cache: every connection makes a full handshake, as a new client would.
		cfg.tls = &tls.Config{RootCAs: roots, NextProtos: []string{"http/1.1"}}
	}
	switch *mode {
	case "load":
		runLoad(cfg, *conns, *duration, *mib)
	case "first":
		runFirst(cfg, *hosts)
	case "get":
		c, err := open(cfg)
		if err != nil {
			log.Fatal(err)
		}
		if _, err := c.get(os.Stdout); err != nil {
			log.Fatal(err)
		}
	default:
		log.Fatalf("unknown -mode %q", *mode)
	}
}

type conn struct {
	net.Conn
	br   *bufio.Reader
	req  []byte
	host string
}

// open dials cfg.dial, sends the CONNECT, and makes the TLS handshake when asked to.
func open(cfg config) (*conn, error) {
	raw, err := net.DialTimeout("tcp", cfg.dial, ioTimeout)
	if err != nil {
		return nil, err
	}
	raw.SetDeadline(time.Now().Add(ioTimeout))
	var c net.Conn = raw
	host := cfg.host
	if cfg.connect != "" {
		if err := sendConnect(raw, cfg.connect); err != nil {
			raw.Close()
			return nil, err
		}
		name, _, _ := net.SplitHostPort(cfg.connect)
		if host == "" {
			host = cfg.connect // host:port, as clients send it for a port other than 443
		}
		if cfg.tls != nil {
			tc := cfg.tls.Clone()
			tc.ServerName = name
			c = tls.Client(raw, tc)
		}
	}
	if tc, ok := c.(*tls.Conn); ok {
		if err := tc.Handshake(); err != nil {
			raw.Close()
			return nil, fmt.Errorf("TLS handshake: %w", err)
		}
	}
	req := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: connload\r\n\r\n", cfg.path, host)
	return &conn{Conn: c, br: bufio.NewReaderSize(c, 64<<10), req: []byte(req), host: host}, nil
}

// sendConnect asks for a tunnel and reads the answer byte by byte, so that nothing of what
// follows it is taken from the connection.
func sendConnect(c net.Conn, authority string) error {
	if _, err := fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", authority, authority); err != nil {
		return err
	}
	var head []byte
	b := make([]byte, 1)
	for !strings.HasSuffix(string(head), "\r\n\r\n") {
		if len(head) > 8<<10 {
			return errors.New("CONNECT answer head too long")
		}
		if _, err := c.Read(b); err != nil {
			return fmt.Errorf("reading the CONNECT answer: %w", err)
		}
		head = append(head, b[0])
	}
	if !strings.HasPrefix(string(head), "HTTP/1.1 200") && !strings.HasPrefix(string(head), "HTTP/1.0 200") {
		return fmt.Errorf("CONNECT %s: %s", authority, strings.SplitN(string(head), "\r\n", 2)[0])
	}
	return nil
}

// get sends one GET and copies the body to w; it returns the body's length.
func (c *conn) get(w io.Writer) (int64, error) {
	c.SetDeadline(time.Now().Add(ioTimeout))
	if _, err := c.Write(c.req); err != nil {
		return 0, err
	}
	res, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(w, res.Body)
	res.Body.Close()
	if err != nil {
		return n, err
	}
	if res.StatusCode != http.StatusOK {
		return n, fmt.Errorf("status %s", res.Status)
	}
	if res.Close {
		return n, errors.New("the server closed the connection")
	}
	return n, nil
}

type result struct {
	lat    []time.Duration
	bytes  int64
	errors int
	last   error
}

func runLoad(cfg config, conns int, d time.Duration, mib bool) {
	results := make([]result, conns)
	open1 := make([]*conn, conns)
	for i := range open1 { // connect before the clock starts
		c, err := open(cfg)
		if err != nil {
			log.Fatalf("opening connection %d: %v", i+1, err)
		}
		open1[i] = c
	}
	var wg sync.WaitGroup
	start := time.Now()
	end := start.Add(d)
	for i := range conns {
		wg.Go(func() { results[i] = worker(cfg, open1[i], end) })
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	var total result
	for _, r := range results {
		all = append(all, r.lat...)
		total.bytes += r.bytes
		total.errors += r.errors
		if r.last != nil {
			total.last = r.last
		}
	}
	if total.last != nil {
		log.Printf("%d errors, the last: %v", total.errors, total.last)
	}
	slices.Sort(all)
	units := float64(len(all))
	if mib {
		units = float64(total.bytes) / (1 << 20)
	}
	fmt.Printf("units=%.1f rate=%.1f p50=%d p99=%d errors=%d\n",
		units, units/elapsed.Seconds(), pct(all, 50), pct(all, 99), total.errors)
}

// worker sends GETs on c until end, opening a new connection after an error.
func worker(cfg config, c *conn, end time.Time) result {
	var r result
	for time.Now().Before(end) {
		if c == nil {
			var err error
			if c, err = open(cfg); err != nil {
				r.errors++
				r.last = err
				time.Sleep(10 * time.Millisecond) // do not spin on a proxy that refuses
				continue
			}
		}
		t0 := time.Now()
		n, err := c.get(io.Discard)
		if err != nil {
			r.errors++
			r.last = err
			c.Close()
			c = nil
			continue
		}
		r.lat = append(r.lat, time.Since(t0))
		r.bytes += n
	}
	if c != nil {
		c.Close()
	}
	return r
}

// runFirst visits each new host twice, one after the other, each time on a new connection.
func runFirst(cfg config, hosts int) {
	if !strings.Contains(cfg.connect, "%d") {
		log.Fatalf("-mode=first wants %s in -connect", "%d")
	}
	pattern := cfg.connect
	var first, repeat, extra []time.Duration
	errs := 0
	for i := range hosts {
		cfg.connect = fmt.Sprintf(pattern, i)
		a, err1 := visit(cfg)
		b, err2 := visit(cfg)
		if err := errors.Join(err1, err2); err != nil {
			errs++
			log.Printf("%s: %v", cfg.connect, err)
			continue
		}
		first, repeat, extra = append(first, a), append(repeat, b), append(extra, a-b)
	}
	for _, s := range [][]time.Duration{first, repeat, extra} {
		slices.Sort(s)
	}
	fmt.Printf("first_p50=%d first_p99=%d repeat_p50=%d repeat_p99=%d extra_p50=%d extra_p99=%d errors=%d\n",
		pct(first, 50), pct(first, 99), pct(repeat, 50), pct(repeat, 99), pct(extra, 50), pct(extra, 99), errs)
}

// visit times a new connection's CONNECT, handshake and first GET.
func visit(cfg config) (time.Duration, error) {
	t0 := time.Now()
	c, err := open(cfg)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	if _, err := c.get(io.Discard); err != nil {
		return 0, err
	}
	return time.Since(t0), nil
}

// pct is the p-th percentile of sorted durations, in microseconds.
func pct(sorted []time.Duration, p int) int64 {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[max(i-1, 0)].Microseconds()
}
