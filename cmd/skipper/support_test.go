package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/poll"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

// supportGet fetches path from skipper's support listener.
func (p *process) supportGet(t *testing.T, path string) (int, string) {
	t.Helper()
	p.mu.Lock()
	addr := p.support
	p.mu.Unlock()
	if addr == "" {
		t.Fatal("skipper did not log its support listener")
	}
	res, err := http.Get("http://" + addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(body)
}

// metricValue returns the value of the series line that starts with series, or -1.
func metricValue(exposition, series string) float64 {
	for line := range strings.Lines(exposition) {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err == nil {
				return v
			}
		}
	}
	return -1
}

func TestSupportListener(t *testing.T) {
	dir := t.TempDir()
	token := filepath.Join(dir, "token")
	writeFile(t, token, canary+"-support\n")
	backend := proxytest.NewBackend(t, nil)
	p := start(t, fmt.Sprintf(`-inline-routes=
		api:  Host("^api$") -> bearerinjector(%q) -> "http://%s";
		gone: Host("^gone$") -> bearerinjector("%s/missing") -> "http://%s";`, token, backend.Addr(), dir, backend.Addr()),
		"-credentials-paths="+dir)

	if code, body := p.supportGet(t, "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz: got %d %q, want 200", code, body)
	}
	if code, body := p.supportGet(t, "/ready"); code != http.StatusOK {
		t.Errorf("/ready: got %d %q, want 200 once routes are loaded", code, body)
	}

	_, before := p.supportGet(t, "/metrics")
	for range 3 {
		p.get(t, "api", "/")
	}
	p.get(t, "gone", "/")
	p.get(t, "nowhere", "/")
	_, after := p.supportGet(t, "/metrics")

	moved := []struct {
		series string
		delta  float64
	}{
		{`skipper_requests_total{method="GET",route="api",status="200"}`, 3},
		{`skipper_requests_total{method="GET",route="gone",status="503"}`, 1},
		{`skipper_requests_total{method="GET",route="(no route)",status="404"}`, 1},
		{`skipper_credential_injections_total{filter="bearerinjector",outcome="injected",route="api"}`, 3},
		{`skipper_credential_injections_total{filter="bearerinjector",outcome="unavailable",route="gone"}`, 1},
		{`skipper_credential_injection_failures_total{filter="bearerinjector",reason="not found"}`, 1},
		{`skipper_backend_duration_seconds_count{route="api"}`, 3},
	}
	for _, m := range moved {
		b := max(metricValue(before, m.series), 0)
		if got := metricValue(after, m.series) - b; got != m.delta {
			t.Errorf("%s moved by %v, want %v", m.series, got, m.delta)
		}
	}
	for _, series := range []string{"skipper_routes", "skipper_secrets_loaded", "skipper_routes_last_reload_success"} {
		if v := metricValue(after, series); v < 1 {
			t.Errorf("%s = %v, want at least 1", series, v)
		}
	}
	if v := metricValue(after, fmt.Sprintf(`skipper_secret_age_seconds{path=%q}`, token)); v < 0 {
		t.Errorf("no age for secret %s in /metrics", token)
	}

	code, routes := p.supportGet(t, "/routes")
	if code != http.StatusOK || !strings.Contains(routes, "api: Host(") || !strings.Contains(routes, token) {
		t.Errorf("/routes: got %d\n%s\nwant the table, naming the secret's path", code, routes)
	}
	for name, text := range map[string]string{"/metrics": after, "/routes": routes} {
		if strings.Contains(text, canary) {
			t.Errorf("%s holds a secret value", name)
		}
	}
}

func TestReadyFailsWhileDraining(t *testing.T) {
	p := start(t, `-inline-routes=* -> <shunt>`, "-wait-for-healthcheck-interval=3s")
	if code, _ := p.supportGet(t, "/ready"); code != http.StatusOK {
		t.Fatalf("/ready: got %d before SIGTERM, want 200", code)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 2*time.Second, "/ready failing after SIGTERM", func() bool {
		code, _ := p.supportGet(t, "/ready")
		return code == http.StatusServiceUnavailable
	})
	// Still serving during the wait, so the load balancer can move traffic away first.
	if res, _ := p.get(t, "any", "/"); res.StatusCode != http.StatusNotFound {
		t.Errorf("got %d while draining, want the shunt's 404", res.StatusCode)
	}
}

func TestJSONLogs(t *testing.T) {
	p := start(t, `-inline-routes=* -> <shunt>`, "-application-log-json-enabled", "-access-log-json-enabled")
	p.get(t, "any", "/x?y=1", "User-Agent", "ua \"quoted\"")
	want := regexp.MustCompile(`(?m)^\{"timestamp":"[^"]+","host":"127.0.0.1","method":"GET","uri":"/x\?y=1","proto":"HTTP/1.1","status":404,"response-size":0,"referer":"","user-agent":"ua \\"quoted\\"","duration":\d+,"requested-host":"any"\}$`)
	poll.Until(t, 2*time.Second, "JSON access line", func() bool { return want.MatchString(p.Log()) })
	if !strings.Contains(p.Log(), `"msg":"Listening on `) {
		t.Errorf("application log is not JSON:\n%s", p.Log())
	}
}

func TestSupportListenerCanBeTurnedOff(t *testing.T) {
	p := start(t, `-inline-routes=* -> <shunt>`, "-support-listener=")
	if strings.Contains(p.Log(), "Support listener on") {
		t.Errorf("support listener started although turned off")
	}
}

// TestNotifiesSystemd plays systemd's part of Type=notify: skipper must say READY=1 once it
// serves, RELOADING=1 then READY=1 around a SIGHUP reload, and STOPPING=1 on SIGTERM.
func TestNotifiesSystemd(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", sock)

	next := func(want string) {
		t.Helper()
		buf := make([]byte, 512)
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("waiting for %s: %v", want, err)
		}
		if got := string(buf[:n]); !strings.HasPrefix(got, want) {
			t.Fatalf("got notification %q, want %s", got, want)
		}
	}
	p := start(t, `-inline-routes=* -> <shunt>`)
	next("READY=1")
	p.cmd.Process.Signal(syscall.SIGHUP)
	next("RELOADING=1")
	next("READY=1")
	p.cmd.Process.Signal(syscall.SIGTERM)
	next("STOPPING=1")
}
