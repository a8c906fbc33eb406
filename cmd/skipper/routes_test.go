package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/poll"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

// TestRoutesFileEditedUnderLoad edits the routes file while a client keeps sending requests:
// no request fails, the new route serves within a second of the write, and a broken edit keeps
// the old routes serving and logs where the error is.
func TestRoutesFileEditedUnderLoad(t *testing.T) {
	backend := proxytest.NewBackend(t, nil)
	file := filepath.Join(t.TempDir(), "routes.eskip")
	old := fmt.Sprintf("old: Host(\"^old$\") -> \"http://%s\";\n", backend.Addr())
	writeFile(t, file, old)
	p := start(t, "-routes-file="+file, "-access-log-disabled")

	// The load: one client loop on the old route until told to stop, at most 20,000 requests.
	var (
		sent, failed atomic.Int64
		stop         = make(chan struct{})
		wg           sync.WaitGroup
	)
	client := &http.Client{Timeout: 5 * time.Second}
	wg.Go(func() {
		for range 20000 {
			select {
			case <-stop:
				return
			default:
			}
			req, _ := http.NewRequest("GET", "http://"+p.addr+"/", nil)
			req.Host = "old"
			res, err := client.Do(req)
			sent.Add(1)
			if err != nil || res.StatusCode != http.StatusOK {
				if failed.Add(1) <= 3 {
					t.Logf("failed request: %v %v", err, res)
				}
			}
			if err == nil {
				res.Body.Close()
			}
		}
	})
	defer func() {
		close(stop)
		wg.Wait()
		if n := failed.Load(); n > 0 {
			t.Errorf("%d of %d requests on the unchanged route failed during reloads", n, sent.Load())
		}
	}()

	newRoute := fmt.Sprintf("new: Host(\"^new$\") -> \"http://%s\";\n", backend.Addr())
	for i := range 3 {
		// Rewrite in place (truncate, then write) and by rename, as editors and tools do.
		content := old + newRoute + strings.Repeat("// padding\n", i)
		written := time.Now()
		if i%2 == 0 {
			writeFile(t, file, content)
		} else {
			writeFile(t, file+".tmp", content)
			if err := os.Rename(file+".tmp", file); err != nil {
				t.Fatal(err)
			}
		}
		poll.Until(t, time.Second, "new route serving", func() bool {
			res, _ := p.get(t, "new", "/")
			return res.StatusCode == http.StatusOK
		})
		t.Logf("edit %d served after %s", i, time.Since(written).Round(time.Millisecond))
		writeFile(t, file, old)
		poll.Until(t, time.Second, "new route removed", func() bool {
			res, _ := p.get(t, "new", "/")
			return res.StatusCode == http.StatusNotFound
		})
	}

	writeFile(t, file, old+"broken: Host(\"^broken$\")\n  \"http://127.0.0.1:1\";\n")
	wantErr := file + `:3:3: route \"broken\": expected \"->\" or \"&&\", found string`
	poll.Until(t, 2*time.Second, "syntax error logged", func() bool { return strings.Contains(p.Log(), wantErr) })
	if res, _ := p.get(t, "old", "/"); res.StatusCode != http.StatusOK {
		t.Errorf("old route: got %d after a broken edit, want 200", res.StatusCode)
	}
	if sent.Load() < 10 {
		t.Errorf("the load loop sent only %d requests; the test proved little", sent.Load())
	}
}

func TestSIGHUPReloads(t *testing.T) {
	file := filepath.Join(t.TempDir(), "routes.eskip")
	writeFile(t, file, `a: Host("^a$") -> <shunt>;`)
	p := start(t, "-routes-file="+file)
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 2*time.Second, "SIGHUP handled", func() bool {
		return strings.Contains(p.Log(), "SIGHUP: reloading routes and credentials")
	})
	if res, _ := p.get(t, "a", "/"); res.StatusCode != http.StatusNotFound {
		t.Errorf("got %d from the shunt route after SIGHUP, want 404", res.StatusCode)
	}
	select {
	case <-p.done:
		t.Fatalf("skipper exited on SIGHUP:\n%s", p.Log())
	default:
	}
}

func TestCheckRoutes(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.eskip")
	writeFile(t, good, `a: Host("^a$") -> setRequestHeader("X-A", "1") -> "https://a.example.com";
b: Path("/b") -> <shunt>;`)
	broken := filepath.Join(dir, "broken.eskip")
	writeFile(t, broken, "a: Host(\"^a$\")\n  -> <shunt>;\nb: Path(\"/b\") <shunt>;\n")
	typos := filepath.Join(dir, "typos.eskip")
	writeFile(t, typos, `a: * -> bearerInjector("/t") -> <shunt>; b: Heder("X", "y") -> "127.0.0.1:8080";`)
	unclosed := filepath.Join(dir, "unclosed.eskip")
	writeFile(t, unclosed, `r: * -> setRequestHeader("X-A", "b) -> bearerinjector("/tok") -> "http://127.0.0.1:8080";`)
	badRoute := filepath.Join(dir, "bad-route.eskip")
	writeFile(t, badRoute, `a: Host("^a$") -> noSuchFilter() -> <shunt>; b: * -> <shunt>;`)
	many := filepath.Join(dir, "many.eskip")
	writeFile(t, many, "ok: * -> <shunt>;\n"+
		`r: Heder("X", "y") && Path("/a:b") -> bearerInjector("/t") -> status("x") -> "127.0.0.1:8080";`)

	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"subcommand, good file", []string{"check", good}, exitOK, "2 routes valid\n", ""},
		{"flag, good file", []string{"-check-routes", "-routes-file=" + good}, exitOK, "2 routes valid\n", ""},
		{"flag, inline", []string{"-check-routes", `-inline-routes=* -> <shunt>`}, exitOK, "1 route valid\n", ""},
		{"syntax error", []string{"check", broken}, exitError, "0 routes valid, 1 problem\n",
			broken + `:3:15: route "b": expected "->" or "&&", found "<shunt>"`},
		{"route left out", []string{"check", badRoute}, exitError, "1 route valid, 1 problem\n",
			badRoute + `:1:1: route "a": `},
		{"misspelt filter", []string{"check", typos}, exitError, "0 routes valid, 3 problems\n",
			typos + `:1:1: route "a": unknown filter "bearerInjector"; did you mean "bearerinjector"?`},
		{"misspelt predicate", []string{"check", typos}, exitError, "0 routes valid, 3 problems\n",
			typos + `:1:42: route "b": unknown predicate "Heder"; did you mean "Header"?`},
		{"every problem of a route", []string{"check", many}, exitError, "1 route valid, 5 problems\n",
			many + `:2:1: route "r": unknown predicate "Heder"; did you mean "Header"?` + "\n" +
				many + `:2:1: route "r": Path predicate: ":" or "*" inside a path segment` + "\n" +
				many + `:2:1: route "r": unknown filter "bearerInjector"; did you mean "bearerinjector"?` + "\n" +
				many + `:2:1: route "r": filter "status": status: argument 1 (status code) must be a number, got string` + "\n" +
				many + `:2:1: route "r": invalid backend "127.0.0.1:8080": no scheme; did you mean "http://127.0.0.1:8080"?` + "\n"},
		{"backend without scheme", []string{"-check-routes", `-inline-routes=* -> "127.0.0.1:8080"`}, exitError, "0 routes valid, 1 problem\n",
			`-inline-routes:1:1: invalid backend "127.0.0.1:8080": no scheme; did you mean "http://127.0.0.1:8080"?`},
		{"unclosed string", []string{"check", unclosed}, exitError, "0 routes valid, 1 problem\n",
			unclosed + `:1:33: route "r": string starting at 1:33 is not closed`},
		{"missing file", []string{"check", filepath.Join(dir, "nope.eskip")}, exitError, "0 routes valid, 1 problem\n", "no such file"},
		{"no file", []string{"check"}, exitUsage, "", "check needs at least one routes FILE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			if code := run(tc.args, &stdout, &stderr); code != tc.wantCode {
				t.Errorf("got exit code %d, want %d (stderr %q)", code, tc.wantCode, stderr.String())
			}
			if !strings.HasSuffix(stdout.String(), tc.wantStdout) {
				t.Errorf("got stdout %q, want it to end with %q", stdout.String(), tc.wantStdout)
			}
			if !strings.Contains(stderr.String(), tc.wantStderr) {
				t.Errorf("stderr %q does not contain %q", stderr.String(), tc.wantStderr)
			}
		})
	}
}
