// Command imagebuild writes skipper's container image, offline and reproducibly: a static binary,
// a CA bundle, /etc/passwd naming the non-root user 65532 and nothing else (no shell, no base
// image), as an OCI image layout in a tar file. docker load, podman load and skopeo
// (oci-archive:FILE) read it; no daemon or registry is needed to build it. `make image` runs it.
//
// The same commit, toolchain and CA bundle give the same bytes: every timestamp in the image is
// the commit's time (SOURCE_DATE_EPOCH, if set, wins), owners are 0:0, and the binary is built
// with -trimpath and an empty build id.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
)

func main() {
	var opts options
	flag.StringVar(&opts.out, "o", "bin/skipper-image.tar", "the image archive to write")
	flag.StringVar(&opts.name, "name", "skipper", "the image's name, without the tag")
	flag.StringVar(&opts.version, "version", "", "the version built into the binary and the image's tag (default: git describe)")
	flag.StringVar(&opts.caBundle, "ca-bundle", "/etc/ssl/certs/ca-certificates.crt", "the PEM CA bundle to put into the image (Debian's ca-certificates package installs the default)")
	flag.StringVar(&opts.arch, "arch", runtime.GOARCH, "the image's CPU architecture (GOARCH)")
	flag.Parse()
	if flag.NArg() > 0 {
		fail(fmt.Errorf("unexpected argument %q", flag.Arg(0)))
	}
	opts.root = "."
	var err error
	if opts.version == "" {
		if opts.version, err = git("describe", "--tags", "--always", "--dirty"); err != nil {
			fail(fmt.Errorf("no -version given and git describe failed: %v", err))
		}
	}
	if opts.epoch, err = sourceDateEpoch(); err != nil {
		fail(err)
	}
	digest, err := build(opts)
	if err != nil {
		fail(err)
	}
	fmt.Printf("wrote %s: %s:%s, manifest %s\n", opts.out, opts.name, opts.version, digest)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "imagebuild:", err)
	os.Exit(1)
}

// sourceDateEpoch is the image's time: $SOURCE_DATE_EPOCH if set, else the last commit's time.
func sourceDateEpoch() (int64, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	from := "SOURCE_DATE_EPOCH"
	if s == "" {
		var err error
		if s, err = git("log", "-1", "--format=%ct"); err != nil {
			return 0, fmt.Errorf("no SOURCE_DATE_EPOCH and no commit time from git: %v", err)
		}
		from = "git log"
	}
	epoch, err := strconv.ParseInt(s, 10, 64)
	if err != nil || epoch < 0 {
		return 0, fmt.Errorf("%s gave %q, want seconds since 1970", from, s)
	}
	return epoch, nil
}

func git(args ...string) (string, error) {
	out, err := exec.Command("git", args...).Output()
	if ee, ok := err.(*exec.ExitError); ok {
		return "", fmt.Errorf("%v: %s", err, strings.TrimSpace(string(ee.Stderr)))
	}
	return strings.TrimSpace(string(out)), err
}

// tagPattern is a valid image tag (OCI distribution spec).
var tagPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
