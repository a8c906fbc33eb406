package proxy_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/poll"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

// rotator replaces the content of one secret in a particular way.
type rotator struct {
	name string
	// setup prepares dir and returns the path the route names.
	setup func(t testing.TB, dir, value string) string
	// rotate makes value the secret's new content.
	rotate func(t testing.TB, dir, value string)
}

func rotators() []rotator {
	const name = "token"
	return []rotator{
		{
			name: "rewrite in place",
			setup: func(t testing.TB, dir, v string) string {
				return writeSecretTB(t, dir, name, v)
			},
			rotate: func(t testing.TB, dir, v string) { writeSecretTB(t, dir, name, v) },
		},
		{
			name: "write and rename",
			setup: func(t testing.TB, dir, v string) string {
				return writeSecretTB(t, dir, name, v)
			},
			rotate: func(t testing.TB, dir, v string) {
				// The temporary file is written outside the watched directory: inside it, it
				// would itself be a secret for a moment.
				tmp := writeSecretTB(t, filepath.Dir(dir), "token.tmp", v)
				must(t, os.Rename(tmp, filepath.Join(dir, name)))
			},
		},
		{
			// Kubernetes' mounted secrets: token -> ..data/token, ..data -> ..<timestamp>, and
			// an update swaps ..data atomically to a new timestamped directory.
			name: "kubernetes ..data swap",
			setup: func(t testing.TB, dir, v string) string {
				k8sVersion(t, dir, "..v0", v)
				must(t, os.Symlink("..v0", filepath.Join(dir, "..data")))
				must(t, os.Symlink(filepath.Join("..data", name), filepath.Join(dir, name)))
				return filepath.Join(dir, name)
			},
			rotate: func(t testing.TB, dir, v string) {
				old, err := os.Readlink(filepath.Join(dir, "..data"))
				must(t, err)
				next := "..v" + strconv.Itoa(len(v)) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
				k8sVersion(t, dir, next, v)
				must(t, os.Symlink(next, filepath.Join(dir, "..data_tmp")))
				must(t, os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")))
				must(t, os.RemoveAll(filepath.Join(dir, old)))
			},
		},
	}
}

func k8sVersion(t testing.TB, dir, version, v string) {
	must(t, os.Mkdir(filepath.Join(dir, version), 0o755))
	writeSecretTB(t, filepath.Join(dir, version), "token", v)
}

func writeSecretTB(t testing.TB, dir, name, value string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	must(t, os.WriteFile(path, []byte(value+"\n"), 0o600))
	return path
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// echoAuthorization is a backend that answers with the Authorization header it received.
func echoAuthorization(w http.ResponseWriter, r *http.Request) {
	io.WriteString(w, r.Header.Get("Authorization"))
}

// token returns the n-th token of a rotation test. All have the same length, so that a partial
// read would show as a token that was never written.
func token(n int) string { return fmt.Sprintf("%s-%04d", canary, n) }

// TestRotationUnderLoad rewrites a secret 100 times while a client keeps sending requests: no
// request fails, every request carries a whole token that was written, and once a request has
// carried a token no later request carries an older one.
func TestRotationUnderLoad(t *testing.T) {
	for _, rot := range rotators() {
		t.Run(rot.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "secrets")
			must(t, os.Mkdir(dir, 0o755))
			path := rot.setup(t, dir, token(0))
			backend := proxytest.NewBackend(t, echoAuthorization)
			p := proxytest.New(t, fmt.Sprintf(`* -> bearerinjector(%q) -> "http://%s"`, path, backend.Addr()),
				proxytest.Options{CredentialsPaths: []string{dir}})

			var (
				mu     sync.Mutex
				seen   []int // token numbers in the order the requests were answered
				errs   []string
				stop   = make(chan struct{})
				loopWG sync.WaitGroup
			)
			client := &http.Client{Timeout: 5 * time.Second}
			loopWG.Go(func() {
				for range 100000 { // bounded, however slow the rotations
					select {
					case <-stop:
						return
					default:
					}
					n, err := fetchToken(client, p.URL)
					mu.Lock()
					if err != nil {
						errs = append(errs, err.Error())
					} else {
						seen = append(seen, n)
					}
					mu.Unlock()
				}
			})

			const rotations = 100
			for i := 1; i <= rotations; i++ {
				rot.rotate(t, dir, token(i))
				// Wait until the new token is in use, so that every token is served at least
				// once and the order check below has something to check.
				poll.Until(t, 2*time.Second, fmt.Sprintf("token %d in use", i), func() bool {
					mu.Lock()
					defer mu.Unlock()
					return len(seen) > 0 && seen[len(seen)-1] == i
				})
			}
			close(stop)
			loopWG.Wait()

			if len(errs) > 0 {
				t.Fatalf("%d requests failed; first: %s", len(errs), errs[0])
			}
			for i := 1; i < len(seen); i++ {
				if seen[i] < seen[i-1] {
					t.Fatalf("request %d carried token %d after a request had carried token %d", i, seen[i], seen[i-1])
				}
			}
			t.Logf("%d requests across %d rotations", len(seen), rotations)
			checkNoCanary(t, p)
		})
	}
}

// fetchToken sends one request and returns the number of the token the backend saw.
func fetchToken(client *http.Client, url string) (int, error) {
	res, err := client.Get(url + "/")
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, err
	}
	if res.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("status %d: %s", res.StatusCode, body)
	}
	tok, ok := strings.CutPrefix(string(body), "Bearer "+canary+"-")
	n, err := strconv.Atoi(tok)
	if !ok || err != nil || len(tok) != 4 {
		// Never print the value itself: it is a secret.
		return 0, fmt.Errorf("backend saw an Authorization that was never written (%d bytes)", len(body))
	}
	return n, nil
}

// TestSecretRevokedAndRestored deletes a secret (requests fail closed), brings it back (they
// are served again), and puts a directory in its place (the last good value is kept, with one
// warning).
func TestSecretRevokedAndRestored(t *testing.T) {
	dir := t.TempDir()
	path := writeSecret(t, dir, "token", canary+"-first")
	backend := proxytest.NewBackend(t, echoAuthorization)
	p := proxytest.New(t, fmt.Sprintf(`r: * -> bearerinjector(%q) -> "http://%s"`, path, backend.Addr()),
		proxytest.Options{CredentialsPaths: []string{dir}})
	status := func() int { res, _ := p.Do(t, "GET", "any", "/"); return res.StatusCode }

	must(t, os.Remove(path))
	poll.Until(t, 2*time.Second, "503 after delete", func() bool { return status() == http.StatusServiceUnavailable })
	before := len(backend.Received())
	for range 3 {
		if got := status(); got != http.StatusServiceUnavailable {
			t.Fatalf("got %d after delete, want 503", got)
		}
	}
	if n := len(backend.Received()); n != before {
		t.Errorf("backend got %d requests while the secret was gone, want 0", n-before)
	}

	writeSecret(t, dir, "token", canary+"-second")
	poll.Until(t, 2*time.Second, "served after recreate", func() bool { return status() == http.StatusOK })
	if _, body := p.Do(t, "GET", "any", "/"); body != "Bearer "+canary+"-second" {
		t.Errorf("backend did not get the recreated secret")
	}

	// A directory where the file was: not a revocation, a read failure; keep serving.
	must(t, os.Remove(path))
	must(t, os.Mkdir(path, 0o755))
	// The earlier "credential unavailable" warning names the path too: wait for this one.
	const unreadable = "Cannot read secret file"
	poll.Until(t, 2*time.Second, "warning about the unreadable secret", func() bool {
		return countLines(p.Log(), "level=warning", unreadable, path) > 0
	})
	for range 3 {
		if _, body := p.Do(t, "GET", "any", "/"); body != "Bearer "+canary+"-second" {
			t.Fatalf("the last good value was not kept")
		}
	}
	if n := countLines(p.Log(), "level=warning", unreadable, path); n != 1 {
		t.Errorf("got %d warnings about %s, want 1:\n%s", n, path, p.Log())
	}
	checkNoCanary(t, p)
}

// BenchmarkRotationLatency measures, per rotation, the time from a secret file's change to the
// first request whose backend sees the new token, through the whole proxy. It reports the
// median and the 99th percentile over b.N rotations of each kind.
//
//	go test ./internal/proxy -run '^$' -bench RotationLatency -benchtime 200x
func BenchmarkRotationLatency(b *testing.B) {
	for _, rot := range rotators() {
		b.Run(strings.ReplaceAll(rot.name, " ", "-"), func(b *testing.B) {
			dir := filepath.Join(b.TempDir(), "secrets")
			must(b, os.Mkdir(dir, 0o755))
			path := rot.setup(b, dir, token(0))
			backend := proxytest.NewBackend(b, echoAuthorization)
			p := proxytest.New(b, fmt.Sprintf(`* -> bearerinjector(%q) -> "http://%s"`, path, backend.Addr()),
				proxytest.Options{CredentialsPaths: []string{dir}})
			client := &http.Client{Timeout: 5 * time.Second}

			lat := make([]time.Duration, 0, b.N)
			for i := 1; i <= b.N; i++ {
				rot.rotate(b, dir, token(i%10000))
				changed := time.Now()
				for {
					n, err := fetchToken(client, p.URL)
					if err != nil {
						b.Fatal(err)
					}
					if n == i%10000 {
						break
					}
					if time.Since(changed) > 5*time.Second {
						b.Fatalf("rotation %d not seen within 5s", i)
					}
				}
				lat = append(lat, time.Since(changed))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
