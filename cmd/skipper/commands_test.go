package main

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runBinary runs the skipper binary with args in dir and returns what it printed and its exit
// code.
func runBinary(t *testing.T, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("running skipper %q: %v", args, err)
	}
	return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
}

// TestSubcommandUsage runs the binary: every subcommand prints its usage for -h and --help and
// creates nothing, "skipper help [COMMAND]" prints the usage asked for, and a wrong command line
// exits 2 with a reason and where to find the usage.
func TestSubcommandUsage(t *testing.T) {
	const (
		topUsage   = "skipper ca init DIR " // a line of the top-level usage, which lists the flags too
		checkUsage = "Usage: skipper check [flags] FILE..."
		caUsage    = "Usage: skipper ca init DIR"
	)
	tests := []struct {
		args     []string
		wantCode int
		wantOut  string // in stdout
		wantErr  string // in stderr
	}{
		{[]string{"help"}, exitOK, topUsage, ""},
		{[]string{"-h"}, exitOK, topUsage, ""},
		{[]string{"--help"}, exitOK, "skipper check [flags] FILE... ", ""},
		{[]string{"help", "help"}, exitOK, topUsage, ""},
		{[]string{"help", "check"}, exitOK, checkUsage, ""},
		{[]string{"help", "ca"}, exitOK, caUsage, ""},
		{[]string{"help", "ca", "init"}, exitOK, caUsage, ""},
		{[]string{"help", "serve"}, exitUsage, "", "skipper: help: unknown command \"serve\"; the commands are check, ca init and help\n" +
			"Run 'skipper help' for usage.\n"},
		{[]string{"help", "ca", "nope"}, exitUsage, "", `unknown command "ca nope"`},
		{[]string{"check", "-h"}, exitOK, checkUsage, ""},
		{[]string{"check", "--help"}, exitOK, checkUsage, ""},
		{[]string{"check", "-help"}, exitOK, checkUsage, ""},
		{[]string{"check", "routes.eskip", "-h"}, exitOK, checkUsage, ""},
		{[]string{"check"}, exitUsage, "", "Run 'skipper help check' for usage.\n"},
		{[]string{"check", "-x", "routes.eskip"}, exitUsage, "", "skipper: unknown shorthand flag: 'x' in -x\nRun 'skipper help check'"},
		{[]string{"check", "--", "-h"}, exitError, "0 routes valid, 1 problem\n", "-h"}, // a file named -h, which is missing
		{[]string{"ca", "-h"}, exitOK, caUsage, ""},
		{[]string{"ca", "--help"}, exitOK, caUsage, ""},
		{[]string{"ca", "init", "-h"}, exitOK, caUsage, ""},
		{[]string{"ca", "init", "--help"}, exitOK, caUsage, ""},
		{[]string{"ca", "init", "-help"}, exitOK, caUsage, ""},
		{[]string{"ca"}, exitUsage, "", "skipper: ca needs a command: skipper ca init DIR\nRun 'skipper help ca' for usage.\n"},
		{[]string{"ca", "create", "dir"}, exitUsage, "", `unknown command "ca create"`},
		{[]string{"ca", "init"}, exitUsage, "", "ca init takes one directory"},
		{[]string{"ca", "init", "a", "b"}, exitUsage, "", "ca init takes one directory"},
		{[]string{"ca", "init", "--no-such-flag", "dir"}, exitUsage, "", "unknown flag: --no-such-flag"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			dir := t.TempDir()
			out, errOut, code := runBinary(t, dir, tc.args...)
			if code != tc.wantCode {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tc.wantCode, errOut)
			}
			if !strings.Contains(out, tc.wantOut) {
				t.Errorf("stdout %q does not contain %q", out, tc.wantOut)
			}
			if !strings.Contains(errOut, tc.wantErr) {
				t.Errorf("stderr %q does not contain %q", errOut, tc.wantErr)
			}
			if tc.wantCode == exitUsage && strings.Count(errOut, "\n") != 2 {
				t.Errorf("a usage error is a reason and a hint, got:\n%s", errOut)
			}
			if tc.wantCode == exitOK && errOut != "" {
				t.Errorf("help wrote to stderr: %q", errOut)
			}
			if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
				t.Errorf("the command created %v in its directory (%v), want nothing", entries, err)
			}
		})
	}
}

// TestCAInitDirectoryStartingWithDash checks that "--" lets a directory whose name starts with
// a dash through, and that the CA is written there.
func TestCAInitDirectoryStartingWithDash(t *testing.T) {
	dir := t.TempDir()
	out, errOut, code := runBinary(t, dir, "ca", "init", "--", "-ca")
	if code != exitOK {
		t.Fatalf("exit code %d, want 0: %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "-ca", "ca.crt")); err != nil {
		t.Errorf("no CA certificate in -ca: %v\n%s", err, out)
	}
}

// TestListenAddressErrors runs the binary: a malformed -address or -support-listener is a usage
// error naming the flag, and an address in use fails at start (exit 1) naming the flag too.
func TestListenAddressErrors(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	inUse := taken.Addr().String()
	tests := []struct {
		args     []string
		wantCode int
		wantErr  string
	}{
		{[]string{"-address=:notaport"}, exitUsage, `skipper: -address: ":notaport": the port "notaport" is not a number from 0 to 65535`},
		{[]string{"-address=1.2.3.4.5:80"}, exitUsage, `skipper: -address: "1.2.3.4.5:80": "1.2.3.4.5" is neither an IP address nor a host name`},
		{[]string{"-address", "127.0.0.1"}, exitUsage, `skipper: -address: "127.0.0.1" is not HOST:PORT`},
		{[]string{"-address=127.0.0.1:65536"}, exitUsage, `the port "65536" is not a number from 0 to 65535`},
		{[]string{"-address=::1:80"}, exitUsage, `skipper: -address: "::1:80" is not HOST:PORT`},
		{[]string{"-support-listener=:notaport"}, exitUsage, `skipper: -support-listener: ":notaport": the port "notaport"`},
		{[]string{"-support-listener=300.1.1.1:9911"}, exitUsage, `skipper: -support-listener: "300.1.1.1:9911": "300.1.1.1" is neither`},
		{[]string{"-support-listener=under_score!:1"}, exitUsage, `is neither an IP address nor a host name`},
		{[]string{"-address=" + inUse, "-support-listener="}, exitError,
			"skipper: -address=" + inUse + ": the address is in use, another process listens there; stop it or choose another -address\n"},
		{[]string{"-address=127.0.0.1:0", "-support-listener=" + inUse}, exitError,
			"skipper: -support-listener=" + inUse + ": the address is in use, another process listens there; stop it or choose another -support-listener\n"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, errOut, code := runBinary(t, t.TempDir(), tc.args...)
			if code != tc.wantCode {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tc.wantCode, errOut)
			}
			if !strings.Contains(errOut, tc.wantErr) {
				t.Errorf("stderr %q does not contain %q", errOut, tc.wantErr)
			}
			if strings.Contains(errOut, "\nlisten tcp") || strings.HasPrefix(errOut, "listen tcp") {
				t.Errorf("a bare listen error:\n%s", errOut)
			}
		})
	}
}

// TestListenAddressForms checks that the check of -address and -support-listener lets every
// form net.Listen takes through.
func TestListenAddressForms(t *testing.T) {
	for _, addr := range []string{":9090", ":0", ":", "127.0.0.1:0", "0.0.0.0:9911", "[::1]:0", "[::]:9090",
		"[fe80::1%eth0]:80", "localhost:9090", "my-host.example.com.:80", "pod_1.svc:80", ":http"} {
		if err := checkListenAddress("address", addr); err != nil {
			t.Errorf("%s: %v", addr, err)
		}
	}
}
