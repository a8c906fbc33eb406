package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/poll"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

// TestAuditLogReopenedOnSIGHUP runs skipper with -audit-log=PATH, rotates the file as
// logrotate does (rename, then SIGHUP) and checks that the next line lands in a new file at
// PATH, and that no line carries the secret.
func TestAuditLogReopenedOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "token")
	writeFile(t, secret, "audit-canary-5e1f\n")
	logPath := filepath.Join(t.TempDir(), "audit.log")
	backend := proxytest.NewBackend(t, nil)
	p := start(t, "-credentials-paths="+dir, "-audit-log="+logPath,
		fmt.Sprintf(`-inline-routes=api: * -> bearerinjector(%q) -> "http://%s"`, secret, backend.Addr()))
	read := func(path string) string {
		b, _ := os.ReadFile(path)
		return string(b)
	}
	p.get(t, "api.test", "/before")
	poll.Until(t, 5*time.Second, "the audit line of /before", func() bool {
		return strings.Contains(read(logPath), `"path":"/before"`)
	})
	if err := os.Rename(logPath, logPath+".1"); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 5*time.Second, "the audit log reopened", func() bool {
		return strings.Contains(p.Log(), "audit log reopened")
	})
	p.get(t, "api.test", "/after")
	poll.Until(t, 5*time.Second, "the audit line of /after in the new file", func() bool {
		return strings.Contains(read(logPath), `"path":"/after"`)
	})
	if old := read(logPath + ".1"); strings.Contains(old, "/after") {
		t.Errorf("the rotated file got a line after SIGHUP:\n%s", old)
	}
	for _, s := range []string{read(logPath), read(logPath + ".1"), p.Log()} {
		if strings.Contains(s, "audit-canary-5e1f") {
			t.Errorf("the secret reached a log:\n%s", s)
		}
	}
}

func TestAuditLogBadPath(t *testing.T) {
	var stdout, stderr strings.Builder
	code := run([]string{"-address=127.0.0.1:0", "-audit-log=" + filepath.Join(t.TempDir(), "no", "dir", "audit.log"),
		"-inline-routes=* -> <shunt>"}, &stdout, &stderr)
	if code != exitError || !strings.Contains(stderr.String(), "-audit-log") {
		t.Errorf("got exit %d, stderr %q; want %d naming -audit-log", code, stderr.String(), exitError)
	}
}

// TestMaskEchoedCredentialsFlag checks that skipper masks an echoed credential with
// -mask-echoed-credentials, and by default passes the response as the backend sent it.
func TestMaskEchoedCredentialsFlag(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "token")
	writeFile(t, secret, "echo-canary-77a1\n")
	backend := proxytest.NewBackend(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Header.Get("Authorization"))
	})
	routes := fmt.Sprintf(`-inline-routes=api: * -> bearerinjector(%q) -> "http://%s"`, secret, backend.Addr())
	for _, tc := range []struct {
		flags []string
		want  string
	}{
		{nil, "Bearer echo-canary-77a1"},
		{[]string{"-mask-echoed-credentials"}, "Bearer ****************"},
		{[]string{"-mask-echoed-credentials=false"}, "Bearer echo-canary-77a1"},
	} {
		p := start(t, append([]string{"-credentials-paths=" + dir, routes}, tc.flags...)...)
		if res, body := p.get(t, "api.test", "/"); res.StatusCode != http.StatusOK || body != tc.want {
			t.Errorf("%v: got %d %q, want 200 %q", tc.flags, res.StatusCode, body, tc.want)
		}
	}
}
