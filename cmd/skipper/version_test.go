package main

import (
	"debug/buildinfo"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"testing"
)

// TestVersionShowsVCSRevision builds skipper with a plain "go build" in a git checkout and
// checks that -version shows the revision and the modified flag the go command stamped, with
// and without an -ldflags version. The checkout is a temporary repository whose one commit is a
// symbolic link to this module: the go command stamps a checkout only where .git is a
// directory, which it is not in a git worktree. (Where the module is a clone of its own, the
// clone's revision is stamped; the test reads whichever it was from the binary.)
func TestVersionShowsVCSRevision(t *testing.T) {
	if testing.Short() {
		t.Skip("builds skipper twice")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git:", err)
	}
	module, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	repo := t.TempDir()
	cmd := func(dir string, env []string, args ...string) string {
		t.Helper()
		c := exec.Command(args[0], args[1:]...)
		c.Dir = dir
		c.Env = append(c.Environ(), env...) // Environ sets PWD to dir: the go command finds the checkout from it
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v\n%s", args, err, out)
		}
		return string(out)
	}
	gitEnv := []string{"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=test", "GIT_AUTHOR_EMAIL=test@example.com", "GIT_COMMITTER_NAME=test", "GIT_COMMITTER_EMAIL=test@example.com"}
	cmd(repo, gitEnv, "git", "init", "-q")
	if err := os.Symlink(module, filepath.Join(repo, "src")); err != nil {
		t.Fatal(err)
	}
	cmd(repo, gitEnv, "git", "add", "src")
	cmd(repo, gitEnv, "git", "commit", "-q", "-m", "skipper")
	src := filepath.Join(repo, "src")

	for _, tc := range []struct {
		name, ldflags, want string
		dirty               bool // a file not committed in the checkout
	}{
		{"plain go build", "", "", false},
		{"with -ldflags version, modified", "-X main.version=v9.8.7-test", "v9.8.7-test", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.dirty {
				writeFile(t, filepath.Join(repo, "not-committed"), "x")
			}
			bin := filepath.Join(t.TempDir(), "skipper")
			// -buildvcs=true is go build's default in a checkout; it is given because GOFLAGS
			// may turn it off. -trimpath lets the build reuse the cache of earlier runs.
			cmd(src, gitEnv, "go", "build", "-buildvcs=true", "-trimpath", "-ldflags="+tc.ldflags, "-o", bin, "./cmd/skipper")
			info, err := buildinfo.ReadFile(bin)
			if err != nil {
				t.Fatal(err)
			}
			settings := map[string]string{}
			for _, s := range info.Settings {
				settings[s.Key] = s.Value
			}
			rev := settings["vcs.revision"]
			if len(rev) != 40 {
				t.Fatalf("the go command stamped no revision (settings %v)", settings)
			}
			want := tc.want
			if want == "" {
				want = info.Main.Version
			}
			want = "skipper " + want + ", revision " + rev
			if settings["vcs.modified"] == "true" {
				want += ", modified"
			}
			if got := cmd(t.TempDir(), nil, bin, "-version"); got != want+"\n" {
				t.Errorf("-version printed %q, want %q", got, want+"\n")
			}
		})
	}
}

func TestFormatVersion(t *testing.T) {
	stamped := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "0123abc"}, {Key: "vcs.modified", Value: "true"}}}
	for _, tc := range []struct {
		ldflags string
		info    *debug.BuildInfo
		want    string
	}{
		{"", nil, "(devel)"},
		{"v1.2.3", nil, "v1.2.3"},
		{"", &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}}, "v1.4.0"}, // go install ...@v1.4.0
		{"", stamped, "(devel), revision 0123abc, modified"},
		{"v1.2.3", stamped, "v1.2.3, revision 0123abc, modified"},
		{"v1.2.3", &debug.BuildInfo{Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123abc"}, {Key: "vcs.modified", Value: "false"}}},
			"v1.2.3, revision 0123abc"},
	} {
		if got := formatVersion(tc.ldflags, tc.info); got != tc.want {
			t.Errorf("formatVersion(%q, %+v) = %q, want %q", tc.ldflags, tc.info, got, tc.want)
		}
	}
}
