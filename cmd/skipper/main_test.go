package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/poll"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

// binary is the skipper command built once for the tests that run it as a process.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "skipper-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "skipper")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "building skipper: %v\n", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Every secret value in these tests starts with canary; no log line may ever contain it.
const canary = "canary-3b9f"

// process is a running skipper binary.
type process struct {
	cmd     *exec.Cmd
	addr    string // where it listens, host:port
	done    chan struct{}
	stopped bool // the test stops it itself; cleanup only makes sure it is gone

	mu      sync.Mutex
	log     strings.Builder // everything it wrote to stderr
	support string          // where the support listener listens, once logged
}

var (
	// The address ends where a quote or blank does, in text and JSON logs alike.
	listeningLine = regexp.MustCompile(`Listening on ([^\s"\\]+)`)
	supportLine   = regexp.MustCompile(`Support listener on ([^\s"\\]+)`)
)

// start runs skipper with args and waits until it listens. Unless args choose addresses, it
// listens, and serves its support listener, on free loopback ports. The process is stopped with SIGTERM when the test ends, and
// the test fails if it does not exit 0 or if its log holds the canary.
func start(t *testing.T, args ...string) *process {
	t.Helper()
	return startUnder(t, nil, args...)
}

// startUnder is start with the command run by wrapper, a program and its arguments that exec
// the command given after them ("sh -c 'ulimit -n 256 && exec \"$0\" \"$@\"'").
func startUnder(t *testing.T, wrapper []string, args ...string) *process {
	t.Helper()
	if !hasFlag(args, "address") {
		args = append(args, "-address=127.0.0.1:0")
	}
	if !hasFlag(args, "support-listener") {
		args = append(args, "-support-listener=127.0.0.1:0")
	}
	argv := append(append(append([]string(nil), wrapper...), binary), args...)
	p := &process{cmd: exec.Command(argv[0], argv[1:]...), done: make(chan struct{})}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	logRead := make(chan struct{})
	go func() { p.readLog(stderr, addr); close(logRead) }()
	// Wait closes the pipe once the process has exited: only after the log has been read to
	// its end, or its last lines would be lost.
	go func() { <-logRead; p.cmd.Wait(); close(p.done) }()

	select {
	case a := <-addr:
		p.addr = a
	case <-p.done:
		t.Fatalf("skipper exited before listening:\n%s", p.Log())
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		t.Fatalf("skipper did not listen within 20s:\n%s", p.Log())
	}
	t.Cleanup(func() {
		p.stop(t)
		if log := p.Log(); strings.Contains(log, canary) {
			t.Errorf("a secret value reached skipper's log:\n%s", log)
		}
	})
	return p
}

// hasFlag reports whether args set the flag name.
func hasFlag(args []string, name string) bool {
	for _, a := range args {
		if n, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "="); n == name {
			return true
		}
	}
	return false
}

func (p *process) readLog(r io.Reader, addr chan<- string) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		p.mu.Lock()
		p.log.WriteString(line + "\n")
		p.mu.Unlock()
		if m := supportLine.FindStringSubmatch(line); m != nil {
			p.mu.Lock()
			p.support = m[1]
			p.mu.Unlock()
		}
		if m := listeningLine.FindStringSubmatch(line); m != nil {
			select {
			case addr <- m[1]:
			default:
			}
		}
	}
}

// Log returns what skipper has written to stderr so far.
func (p *process) Log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

func (p *process) stop(t *testing.T) {
	t.Helper()
	if p.stopped {
		p.cmd.Process.Kill()
		<-p.done
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
		t.Errorf("skipper did not exit within 20s of SIGTERM")
		return
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("skipper exited %d after SIGTERM, want 0:\n%s", code, p.Log())
	}
}

// get sends GET path to skipper with the given Host and headers (name, value pairs).
func (p *process) get(t *testing.T, host, path string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", "http://"+p.addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestDemo runs the README's demo command line, single dashes and all, with only the ports and
// the secrets directory changed to fit a test.
func TestDemo(t *testing.T) {
	for _, style := range []string{"single-dash", "double-dash"} {
		t.Run(style, func(t *testing.T) {
			dir := t.TempDir()
			token := filepath.Join(dir, "mytoken")
			writeFile(t, token, canary+"-mytoken\n")
			backend := proxytest.NewBackend(t, nil)
			routes := fmt.Sprintf(`Host("host1") -> bearerinjector(%q) -> "http://%s/"`, token, backend.Addr())

			args := []string{"-inline-routes=" + routes, "-credentials-paths=" + dir, "-credentials-update-interval=10s"}
			if style == "double-dash" {
				args = []string{"--inline-routes", routes, "--credentials-paths", dir, "--credentials-update-interval", "10s"}
			}
			p := start(t, args...)

			res, _ := p.get(t, "host1", "/foo", "User-Agent", "curl/8.5.0", "Accept", "*/*")
			if res.StatusCode != http.StatusOK {
				t.Fatalf("got status %d, want 200:\n%s", res.StatusCode, p.Log())
			}
			got := backend.Last(t)
			want := map[string]string{
				"request line":  "GET /foo HTTP/1.1",
				"Host":          backend.Addr(),
				"User-Agent":    "curl/8.5.0",
				"Accept":        "*/*",
				"Authorization": "Bearer " + canary + "-mytoken",
			}
			seen := map[string]string{
				"request line":  got.Method + " " + got.RequestURI + " " + got.Proto,
				"Host":          got.Host,
				"User-Agent":    got.Header.Get("User-Agent"),
				"Accept":        got.Header.Get("Accept"),
				"Authorization": got.Header.Get("Authorization"),
			}
			for k, w := range want {
				if seen[k] != w {
					t.Errorf("backend saw %s %q, want %q", k, seen[k], w)
				}
			}

			// Rotation: the next requests carry the new token, seen through file events long
			// before the 10s ticker would fire.
			writeFile(t, token, canary+"-changedtoken\n")
			poll.Until(t, 2*time.Second, "rotated token", func() bool {
				p.get(t, "host1", "/foo")
				return backend.Last(t).Header.Get("Authorization") == "Bearer "+canary+"-changedtoken"
			})
			wantLog := fmt.Sprintf(`level=info msg="Updated secret file: %s"`, token)
			poll.Until(t, 2*time.Second, "log line "+wantLog, func() bool { return strings.Contains(p.Log(), wantLog) })
		})
	}
}

func TestTwoUpstreamsWithTheirOwnTokens(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a"), canary+"-a\n")
	writeFile(t, filepath.Join(dir, "b"), canary+"-b\n")
	backendA := proxytest.NewBackend(t, nil)
	backendB := proxytest.NewBackend(t, nil)
	routes := fmt.Sprintf(`
		a: Host("a.localhost") -> bearerinjector("%[1]s/a") -> "http://%[2]s";
		b: Host("b.localhost") -> bearerinjector("%[1]s/b") -> "http://%[3]s";`, dir, backendA.Addr(), backendB.Addr())
	p := start(t, "-inline-routes="+routes, "-credentials-paths="+dir)

	for _, tc := range []struct {
		host    string
		backend *proxytest.Backend
		token   string
	}{
		{"a.localhost", backendA, canary + "-a"},
		{"b.localhost", backendB, canary + "-b"},
		{"a.localhost:9090", backendA, canary + "-a"},
	} {
		before := len(tc.backend.Received())
		if res, _ := p.get(t, tc.host, "/x"); res.StatusCode != http.StatusOK {
			t.Fatalf("%s: got status %d, want 200", tc.host, res.StatusCode)
		}
		if n := len(tc.backend.Received()); n != before+1 {
			t.Fatalf("%s: its backend got %d new requests, want 1", tc.host, n-before)
		}
		if got := tc.backend.Last(t).Header.Get("Authorization"); got != "Bearer "+tc.token {
			t.Errorf("%s: backend saw Authorization %q, want the route's own token", tc.host, got)
		}
	}
	if res, body := p.get(t, "c.localhost", "/x"); res.StatusCode != http.StatusNotFound || body != "Not Found\n" {
		t.Errorf("no route: got %d %q, want 404 \"Not Found\\n\"", res.StatusCode, body)
	}
}

func TestMissingSecretFailsClosed(t *testing.T) {
	dir := t.TempDir()
	token := filepath.Join(dir, "token")
	backend := proxytest.NewBackend(t, nil)
	p := start(t, fmt.Sprintf(`-inline-routes=r1: Host("host1") -> bearerinjector(%q) -> "http://%s"`, token, backend.Addr()),
		"-credentials-paths="+dir)

	for range 5 {
		res, body := p.get(t, "host1", "/", "Authorization", "Bearer client-own")
		if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, `"r1"`) {
			t.Fatalf("got %d %q, want 503 naming route r1", res.StatusCode, body)
		}
	}
	if n := len(backend.Received()); n != 0 {
		t.Errorf("backend received %d requests, want 0", n)
	}
	if n := strings.Count(p.Log(), "level=warning"); n != 1 {
		t.Errorf("got %d warnings, want 1:\n%s", n, p.Log())
	}

	// The secret appears: served from the next request on.
	writeFile(t, token, canary+"-late\n")
	poll.Until(t, 2*time.Second, "secret created after start", func() bool {
		res, _ := p.get(t, "host1", "/")
		return res.StatusCode == http.StatusOK
	})
	if got := backend.Last(t).Header.Get("Authorization"); got != "Bearer "+canary+"-late" {
		t.Errorf("backend saw Authorization %q, want the new secret", got)
	}
}

func TestCommandLineErrors(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string // in stdout
		wantErr  string // in stderr
	}{
		{"unknown flag", []string{"-no-such-flag"}, exitUsage, "", "skipper: unknown flag: --no-such-flag\n"},
		{"unknown shorthand", []string{"-x"}, exitUsage, "", "skipper: unknown shorthand flag: 'x' in -x\n"},
		{"bad duration", []string{"-credentials-update-interval=soon"}, exitUsage, "", `invalid argument "soon" for "--credentials-update-interval"`},
		{"negative duration", []string{"-credentials-update-interval", "-1s"}, exitUsage, "", "-credentials-update-interval must be positive, got -1s"},
		{"bad log level", []string{"-application-log-level=LOUD"}, exitUsage, "", `unknown log level "LOUD"`},
		{"several problems at once", []string{"-application-log-level=LOUD", "-credentials-update-interval=0s"}, exitUsage, "", "; "},
		{"negative max-loopbacks", []string{"-max-loopbacks=-1"}, exitUsage, "", "-max-loopbacks must not be negative, got -1"},
		{"positional argument", []string{"routes.eskip"}, exitUsage, "", `unexpected argument "routes.eskip"`},
		{"missing value", []string{"-address"}, exitUsage, "", "flag needs an argument: --address"},
		{"certificate without key", []string{"-tls-cert=a.crt"}, exitUsage, "", "-tls-cert names 1 files and -tls-key 0"},
		{"client certificate without key", []string{"-client-tls-cert=a.crt"}, exitUsage, "", "-client-tls-cert names 1 files and -client-tls-key 0"},
		{"negative timeout", []string{"-write-timeout-server=-1s"}, exitUsage, "", "-write-timeout-server must not be negative, got -1s"},
		{"default status out of range", []string{"-default-http-status=99"}, exitUsage, "", "-default-http-status must be between 200 and 599, got 99"},
		{"bad close-idle period", []string{"-close-idle-conns-period=soon"}, exitUsage, "", "not a duration or a whole number of seconds"},
		{"no header bytes", []string{"-max-header-bytes=0"}, exitUsage, "", "-max-header-bytes must be positive, got 0"},
		{"state dir is a file", []string{"-oauth2-state-dir=main_test.go", "-address=127.0.0.1:0", "-support-listener="},
			exitError, "", "token manager: state directory: mkdir main_test.go: not a directory"},
		{"version", []string{"-version"}, exitOK, "skipper ", ""},
		{"help single dash", []string{"-help"}, exitOK, "--inline-routes", ""},
		{"help shorthand", []string{"-h"}, exitOK, "--credentials-paths", ""},
		{"syntax error in inline routes", []string{`-inline-routes=r1: Host("a") -> bearerinjector("x") "http://b"`, "-address=127.0.0.1:0"},
			exitError, "", "skipper: -inline-routes:1:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			code := run(tc.args, &stdout, &stderr)
			if code != tc.wantCode {
				t.Errorf("got exit code %d, want %d (stderr %q)", code, tc.wantCode, stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.wantOut) {
				t.Errorf("stdout %q does not contain %q", stdout.String(), tc.wantOut)
			}
			if !strings.Contains(stderr.String(), tc.wantErr) {
				t.Errorf("stderr %q does not contain %q", stderr.String(), tc.wantErr)
			}
			if tc.wantCode == exitUsage && strings.Count(strings.TrimSuffix(stderr.String(), "\n"), "\n") > 1 {
				t.Errorf("usage error took more than a reason and a hint:\n%s", stderr.String())
			}
		})
	}
}

func TestNormalizeArgs(t *testing.T) {
	fs := newFlagSet(&Config{})
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"single dash with =", []string{"-address=:1"}, []string{"--address=:1"}},
		{"single dash, value apart", []string{"-address", ":1"}, []string{"--address", ":1"}},
		{"double dash untouched", []string{"--address=:1"}, []string{"--address=:1"}},
		{"bool flag takes no value", []string{"-access-log-disabled", "-version"}, []string{"--access-log-disabled", "--version"}},
		{"value that looks like a flag", []string{"-inline-routes", "-version"}, []string{"--inline-routes", "-version"}},
		{"two-dash value that looks like a flag", []string{"--routes-file", "-version"}, []string{"--routes-file", "-version"}},
		{"shorthand untouched", []string{"-h"}, []string{"-h"}},
		{"unknown long flag", []string{"-nope=1"}, []string{"--nope=1"}},
		{"shorthand with value untouched", []string{"-h=true"}, []string{"-h=true"}},
		{"after terminator untouched", []string{"--", "-address=:1"}, []string{"--", "-address=:1"}},
		{"positional untouched", []string{"file", "-"}, []string{"file", "-"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := normalizeArgs(fs, tc.in)
			if strings.Join(got, "\x00") != strings.Join(tc.want, "\x00") {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestSIGINTStopsCleanly checks the other shutdown signal; SIGTERM is checked by every test's
// cleanup.
func TestSIGINTStopsCleanly(t *testing.T) {
	p := start(t, `-inline-routes=* -> <shunt>`)
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Fatal("skipper did not exit within 20s of SIGINT")
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code %d after SIGINT, want 0", code)
	}
}

func TestWarnsAboutSecretOutsideCredentialsPaths(t *testing.T) {
	dir := t.TempDir()
	elsewhere := filepath.Join(t.TempDir(), "token")
	p := start(t, fmt.Sprintf(`-inline-routes=gh: Host("gh") -> bearerinjector(%q) -> <shunt>`, elsewhere),
		"-credentials-paths="+dir)
	want := fmt.Sprintf(`level=warning msg="Route \"gh\" reads secret %s, which is under no -credentials-paths entry`, elsewhere)
	if !strings.Contains(p.Log(), want) {
		t.Errorf("log does not contain %s:\n%s", want, p.Log())
	}
}
