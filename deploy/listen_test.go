package deploy

import (
	"bufio"
	"os"
	"regexp"
	"strings"
	"testing"
)

// loopbackSupport is where the demo and the systemd unit put the support listener (/metrics,
// /routes, /ready): Skipper's default, :9911, is every interface.
const loopbackSupport = "-support-listener=127.0.0.1:9911"

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// supportListeners returns the values of every -support-listener flag in s.
func supportListeners(s string) []string {
	var got []string
	for _, m := range regexp.MustCompile(`--?support-listener[= ]([^\s"']*)`).FindAllStringSubmatch(s, -1) {
		got = append(got, m[1])
	}
	return got
}

func TestUnitBindsSupportListenerToLoopback(t *testing.T) {
	start := strings.Join(unitSettings(t, unitPath)["ExecStart"], " ")
	if got := supportListeners(start); len(got) != 1 || got[0] != "127.0.0.1:9911" {
		t.Errorf("got ExecStart=%s, want it to set %s once", start, loopbackSupport)
	}
	// The env file's SKIPPER_ARGS come after it and would win: none may widen it.
	for _, addr := range supportListeners(withoutComments(readFile(t, "systemd/skipper.env"))) {
		if !strings.HasPrefix(addr, "127.0.0.1:") {
			t.Errorf("skipper.env sets -support-listener=%s, want loopback only", addr)
		}
	}
}

// withoutComments drops the lines of s that are comments ('#' first, after white space).
func withoutComments(s string) string {
	var b strings.Builder
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if !strings.HasPrefix(strings.TrimSpace(sc.Text()), "#") {
			b.WriteString(sc.Text() + "\n")
		}
	}
	return b.String()
}

// commandAfter returns the shell command that starts at the first line of text beginning with
// prefix, its continuation lines joined, white space collapsed.
func commandAfter(t *testing.T, name, text, prefix string) string {
	t.Helper()
	lines := strings.Split(text, "\n")
	for i, line := range lines {
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		cmd := line
		for strings.HasSuffix(cmd, `\`) && i+1 < len(lines) {
			i++
			cmd = strings.TrimSuffix(cmd, `\`) + " " + lines[i]
		}
		return strings.Join(strings.Fields(cmd), " ")
	}
	t.Fatalf("got no line starting with %q in %s", prefix, name)
	return ""
}

// TestDemoBindsSupportListenerToLoopback checks that `make demo` binds the support listener to
// loopback and that the README's quick start shows exactly the command the script runs.
func TestDemoBindsSupportListenerToLoopback(t *testing.T) {
	// demo.sh runs it in the background, to wait until it is ready.
	script := strings.TrimSuffix(commandAfter(t, "scripts/demo.sh", readFile(t, "../scripts/demo.sh"), "bin/skipper "), " &")
	readme := readFile(t, "../README.md")
	quick := commandAfter(t, "README.md", readme, "skipper -inline-routes=")
	if !strings.Contains(script, " "+loopbackSupport) {
		t.Errorf("demo.sh runs %s, want %s", script, loopbackSupport)
	}
	if want := "skipper " + strings.TrimPrefix(script, "bin/skipper "); quick != want {
		t.Errorf("README's quick start shows\n\t%s\nwant what demo.sh runs:\n\t%s", quick, want)
	}
	// The flag table says where the listener is by default.
	row := commandAfter(t, "README.md", readme, "| `-support-listener` |")
	if !strings.Contains(row, "`:9911`") || !strings.Contains(row, "every interface") {
		t.Errorf("README's flag table row %q does not say it listens on :9911, every interface", row)
	}
}

// TestKubernetesBindsSupportListener checks that the sidecar names its support listener and that
// the readiness probe asks the port it binds.
func TestKubernetesBindsSupportListener(t *testing.T) {
	manifest := withoutComments(readFile(t, "kubernetes/egress-sidecar.yaml"))
	got := supportListeners(manifest)
	if len(got) != 1 || got[0] != ":9911" {
		t.Fatalf("got -support-listener %q in the manifest, want it set once, to :9911 (the kubelet probes the pod IP)", got)
	}
	if !strings.Contains(manifest, "- -support-listener=:9911\n") {
		t.Errorf("got no argument line \"- -support-listener=:9911\" in the manifest")
	}
	for _, want := range []string{"- name: support\n              containerPort: 9911\n", "port: support\n"} {
		if !strings.Contains(manifest, want) {
			t.Errorf("got no %q in the manifest, want the probe on the support listener's port", want)
		}
	}
}
