package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/skipper-egress/skipper/internal/mitm"
)

// The usage of each subcommand, printed by "skipper help COMMAND" and "skipper COMMAND -h".
const (
	checkUsage = `Usage: skipper check [flags] FILE...

Parses and compiles the routes of each FILE, and those of -inline-routes and -routes-file,
without serving them: every problem goes to stderr as FILE:LINE:COL, a summary to stdout. Exits
0 when every route compiles, 1 when one does not, 2 when the command line is wrong. It takes
skipper's flags (see 'skipper help'); a FILE whose name starts with a dash goes after "--".
`
	caUsage = `Usage: skipper ca init DIR

Writes a new CA for TLS interception of CONNECT requests to DIR/ca.crt and its key to
DIR/ca.key (DIR is created if missing; existing files are never overwritten), and prints how to
trust the certificate. Start skipper with -ca-cert DIR/ca.crt -ca-key DIR/ca.key.
`
)

// commands names the subcommands for the top-level usage and for errors.
const commands = "check, ca init and help"

// splitCommand returns the subcommand args start with, "" for none, and the rest of args.
func splitCommand(args []string) (cmd string, rest []string) {
	if len(args) > 0 {
		switch args[0] {
		case "check", "ca", "help":
			return args[0], args[1:]
		}
	}
	return "", args
}

// printUsage prints the usage of cmd ("" for skipper itself) to w.
func printUsage(w io.Writer, cmd string, fs *pflag.FlagSet) {
	switch cmd {
	case "check":
		fmt.Fprint(w, checkUsage)
	case "ca":
		fmt.Fprint(w, caUsage)
	default:
		fmt.Fprintf(w, "Usage:\n"+
			"  skipper [flags]                serve: an egress proxy that adds credentials to outgoing API calls\n"+
			"  skipper check [flags] FILE...  check route files without serving them\n"+
			"  skipper ca init DIR            write a new CA for TLS interception\n"+
			"  skipper help [COMMAND]         print this help, or a command's\n\n"+
			"Flags, of skipper and skipper check, take one dash or two (-address :9090, --address=:9090):\n\n%s", fs.FlagUsages())
	}
}

// usageError reports a wrong command line of cmd ("" for skipper itself) in two lines: the
// reason and where to find the usage.
func usageError(w io.Writer, cmd, reason string) int {
	help := "skipper help"
	if cmd != "" {
		help = "skipper help " + cmd
	}
	fmt.Fprintf(w, "skipper: %s\nRun '%s' for usage.\n", reason, help)
	return exitUsage
}

// helpCommand is "skipper help [COMMAND]".
func helpCommand(args []string, stdout, stderr io.Writer) int {
	switch strings.Join(args, " ") {
	case "", "help":
		printUsage(stdout, "", newFlagSet(&Config{}))
	case "check":
		printUsage(stdout, "check", nil)
	case "ca", "ca init":
		printUsage(stdout, "ca", nil)
	default:
		return usageError(stderr, "", fmt.Sprintf("help: unknown command %q; the commands are %s", strings.Join(args, " "), commands))
	}
	return exitOK
}

// caCommand is "skipper ca init DIR": it writes a new CA to DIR and prints how to trust it.
func caCommand(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("skipper ca", pflag.ContinueOnError)
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	help := fs.BoolP("help", "h", false, "print this help and exit")
	if err := fs.Parse(normalizeArgs(fs, args)); err != nil && err != pflag.ErrHelp {
		return usageError(stderr, "ca", oneLine(err))
	} else if err != nil || *help {
		printUsage(stdout, "ca", nil)
		return exitOK
	}
	switch args := fs.Args(); {
	case len(args) == 0:
		return usageError(stderr, "ca", "ca needs a command: skipper ca init DIR")
	case args[0] != "init":
		return usageError(stderr, "ca", fmt.Sprintf("unknown command \"ca %s\"; want skipper ca init DIR", args[0]))
	case len(args) != 2:
		return usageError(stderr, "ca", "ca init takes one directory: skipper ca init DIR")
	default:
		return caInit(args[1], stdout, stderr)
	}
}

// caInit writes a new CA to dir and prints how to trust it.
func caInit(dir string, stdout, stderr io.Writer) int {
	certPath, keyPath, err := mitm.InitCA(dir)
	if err != nil {
		fmt.Fprintf(stderr, "skipper: ca init: %v\n", err)
		return exitError
	}
	fmt.Fprintf(stdout, "Wrote the CA certificate to %s and its key to %s.\n"+
		"Start skipper with -ca-cert %s -ca-key %s.\n\n%s", certPath, keyPath, certPath, keyPath, mitm.TrustInstructions(certPath))
	return exitOK
}
