package deploy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestDemoStopsWhenAPortIsTaken runs scripts/demo.sh with each of its ports held by a loopback
// listener: it must exit 1 naming the port before it starts anything, instead of carrying on
// with a backend that could not bind.
func TestDemoStopsWhenAPortIsTaken(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	for _, port := range []int{8080, 9090, 9911} {
		t.Run(fmt.Sprint(port), func(t *testing.T) {
			addr := fmt.Sprintf("127.0.0.1:%d", port)
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				t.Skipf("cannot hold %s for the test: %v", addr, err)
			}
			defer ln.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bash, "../scripts/demo.sh")
			cmd.WaitDelay = 5 * time.Second // should the script leave a child holding its output
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Fatalf("got %v, want exit status 1; output:\n%s", err, out)
			}
			want := fmt.Sprintf("demo: port %d is taken: ", port)
			if !strings.HasPrefix(string(out), want) {
				t.Errorf("got output\n%s\nwant it to start with %q", out, want)
			}
		})
	}
}

// TestMakeHelpShowsValues: `make help` shows the value of a variable a description names, not
// the variable.
func TestMakeHelpShowsValues(t *testing.T) {
	mk, err := exec.LookPath("make")
	if err != nil {
		t.Skip("make is not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, tc := range []struct{ args, want string }{
		{"", "against net/http, 30s each\n"},
		{"FUZZTIME=7s", "against net/http, 7s each\n"},
	} {
		args := []string{"-s", "-C", "..", "help"}
		if tc.args != "" {
			args = append(args, tc.args)
		}
		out, err := exec.CommandContext(ctx, mk, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("make %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		if !strings.Contains(string(out), tc.want) || strings.Contains(string(out), "$(") {
			t.Errorf("make %s printed\n%s\nwant %q and no $(...)", strings.Join(args, " "), out, tc.want)
		}
	}
}
