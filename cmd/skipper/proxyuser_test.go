package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestForwardProxyAuthBadLineStopsStart: a -forward-proxy-auth file with a bad line stops skipper
// at start, naming the file and the line and never a password.
func TestForwardProxyAuthBadLineStopsStart(t *testing.T) {
	dir := t.TempDir()
	users := filepath.Join(dir, "users")
	writeFile(t, users, "alice:"+canary+"-pw\nbob "+canary+"\nalice:again\n")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "-address=127.0.0.1:0", "-support-listener=",
		"-inline-routes=* -> <shunt>", "-credentials-paths="+dir, "-forward-proxy-auth="+users)
	out, err := cmd.CombinedOutput()
	if err == nil || ctx.Err() != nil {
		t.Fatalf("skipper did not exit with an error (%v):\n%s", err, out)
	}
	for _, want := range []string{users + ":2: want user:password", users + `:3: user "alice" given twice`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output does not hold %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), canary) {
		t.Errorf("a password reached the output:\n%s", out)
	}
}
