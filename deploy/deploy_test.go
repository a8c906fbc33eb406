// Package deploy holds no code, only the checks of the deployment files beside it: the systemd
// unit must keep its hardening and pass systemd-analyze verify where systemd is installed, and
// the unit, the Kubernetes example and the demo must say where the support listener binds.
package deploy

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	unitPath   = "systemd/skipper.service"
	installExe = "ExecStart=/usr/local/bin/skipper "
)

// unitSettings reads a unit file into key → values, in file order; sections are ignored, as no
// key of ours appears in two.
func unitSettings(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	settings := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' || line[0] == '[' {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: line %q is no key=value", path, line)
		}
		settings[key] = append(settings[key], value)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return settings
}

func TestUnitHardening(t *testing.T) {
	settings := unitSettings(t, unitPath)
	tests := []struct {
		key  string
		want string // one of the key's values must be exactly this
	}{
		{"Type", "notify"},
		{"ExecReload", "/bin/kill -HUP $MAINPID"},
		{"Restart", "on-failure"},
		{"DynamicUser", "yes"},
		{"NoNewPrivileges", "yes"},
		{"CapabilityBoundingSet", ""},
		{"ProtectSystem", "strict"},
		{"ProtectHome", "yes"},
		{"PrivateTmp", "yes"},
		{"ReadOnlyPaths", "/etc/skipper/secrets"},
		{"RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"},
		{"SystemCallFilter", "@system-service"},
		{"MemoryDenyWriteExecute", "yes"},
		{"LockPersonality", "yes"},
		{"RestrictNamespaces", "yes"},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			got, ok := settings[tc.key]
			if !ok {
				t.Fatalf("got no %s=, want %s=%s", tc.key, tc.key, tc.want)
			}
			for _, v := range got {
				if v == tc.want {
					return
				}
			}
			t.Errorf("got %s=%q, want %q among them", tc.key, got, tc.want)
		})
	}
	// Every path the flags read must be inside ReadOnlyPaths, or the sandbox and the command
	// line disagree.
	start := strings.Join(settings["ExecStart"], " ")
	for _, flag := range []string{"-routes-file=/etc/skipper/", "-credentials-paths=/etc/skipper/secrets"} {
		if !strings.Contains(start, flag) {
			t.Errorf("got ExecStart=%s, want it to hold %s", start, flag)
		}
	}
}

// maxExposure is the highest overall exposure systemd-analyze security may give the unit, in
// its tenths (1.6 "OK" when written); 2.0 leaves room for a reasoned exception, no more.
const maxExposure = "20"

func TestUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	path := installableUnit(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	t.Run("verify", func(t *testing.T) {
		out, err := exec.CommandContext(ctx, analyze, "verify", path).CombinedOutput()
		if err != nil {
			t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
		}
		// verify exits 0 on unknown keys and bad values, but names them.
		if len(out) > 0 {
			t.Errorf("got systemd-analyze verify output, want none:\n%s", out)
		}
	})
	t.Run("security", func(t *testing.T) {
		out, err := exec.CommandContext(ctx, analyze, "security", "--offline=true",
			"--threshold="+maxExposure, path).CombinedOutput()
		if err != nil && strings.Contains(string(out), "--offline") {
			t.Skipf("this systemd-analyze cannot judge a unit offline: %s", out)
		}
		if err != nil {
			t.Errorf("systemd-analyze security: %v, want an exposure of at most %s tenths:\n%s", err, maxExposure, out)
		}
	})
}

// installableUnit writes the unit to a temp dir with ExecStart pointing at this test's own
// binary, since verify insists that the binary exists, and returns the copy's path.
func installableUnit(t *testing.T) string {
	t.Helper()
	unit, err := os.ReadFile(unitPath)
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	text := string(unit)
	if !strings.Contains(text, installExe) {
		t.Fatalf("got no %q in %s, want skipper installed there", installExe, unitPath)
	}
	text = strings.Replace(text, installExe, "ExecStart="+self+" ", 1)
	path := filepath.Join(t.TempDir(), "skipper.service")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
