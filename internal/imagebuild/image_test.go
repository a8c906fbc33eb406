package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/proxytest"
)

const (
	testVersion = "v0.0.0-imagetest"
	testEpoch   = 1700000000
	testCA      = "-----BEGIN CERTIFICATE-----\nnot a real certificate\n-----END CERTIFICATE-----\n"
)

// buildTestImage builds the image as `make image` does, with a fixed version, time and CA bundle.
func buildTestImage(t *testing.T, out string) string {
	t.Helper()
	ca := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(ca, []byte(testCA), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := build(options{root: "../..", out: out, name: "skipper", version: testVersion,
		caBundle: ca, arch: runtime.GOARCH, epoch: testEpoch})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// image is an unpacked image archive, read the way a runtime reads an OCI layout.
type image struct {
	manifestDigest string
	config         struct {
		Architecture string `json:"architecture"`
		OS           string `json:"os"`
		Config       struct {
			User       string   `json:"User"`
			Entrypoint []string `json:"Entrypoint"`
		} `json:"config"`
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
	layer   map[string]*tar.Header
	content map[string][]byte // the layer's regular files
}

// readImage follows index.json → manifest → config and layer, checking every digest on the way.
func readImage(t *testing.T, archive string) *image {
	t.Helper()
	raw, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	files := untar(t, raw, nil)
	blob := func(d descriptor) []byte {
		t.Helper()
		b, ok := files[blobPath(d.Digest)]
		if !ok {
			t.Fatalf("blob %s is missing", d.Digest)
		}
		if digest(b) != d.Digest || len(b) != d.Size {
			t.Fatalf("blob %s has digest %s and size %d, want size %d", d.Digest, digest(b), len(b), d.Size)
		}
		return b
	}
	var index struct{ Manifests []descriptor }
	unmarshal(t, files["index.json"], &index)
	if len(index.Manifests) != 1 || index.Manifests[0].MediaType != mediaManifest {
		t.Fatalf("index.json lists %+v, want one image manifest", index.Manifests)
	}
	var manifest struct {
		Config descriptor
		Layers []descriptor
	}
	unmarshal(t, blob(index.Manifests[0]), &manifest)
	if len(manifest.Layers) != 1 || manifest.Layers[0].MediaType != mediaLayer {
		t.Fatalf("manifest lists layers %+v, want one tar+gzip", manifest.Layers)
	}
	img := &image{manifestDigest: index.Manifests[0].Digest, layer: map[string]*tar.Header{}}
	unmarshal(t, blob(manifest.Config), &img.config)
	zr, err := gzip.NewReader(bytes.NewReader(blob(manifest.Layers[0])))
	if err != nil {
		t.Fatal(err)
	}
	layer, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if got := img.config.RootFS.DiffIDs; len(got) != 1 || got[0] != digest(layer) {
		t.Fatalf("config's diff_ids %v, want [%s]", got, digest(layer))
	}
	img.content = untar(t, layer, img.layer)
	return img
}

// untar returns the regular files of a tar, and records every header in headers if not nil.
func untar(t *testing.T, b []byte, headers map[string]*tar.Header) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		if headers != nil {
			headers[path.Clean(h.Name)] = h
		}
		if h.Typeflag == tar.TypeReg {
			if files[path.Clean(h.Name)], err = io.ReadAll(tr); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func unmarshal(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%v in %s", err, b)
	}
}

func TestImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds skipper twice")
	}
	dir := t.TempDir()
	first := buildTestImage(t, filepath.Join(dir, "a.tar"))
	second := buildTestImage(t, filepath.Join(dir, "b.tar"))
	if first != second {
		t.Errorf("two builds gave manifests %s and %s, want the same", first, second)
	}
	a, _ := os.ReadFile(filepath.Join(dir, "a.tar"))
	b, _ := os.ReadFile(filepath.Join(dir, "b.tar"))
	if !bytes.Equal(a, b) {
		t.Errorf("two builds gave different archives")
	}

	img := readImage(t, filepath.Join(dir, "a.tar"))
	if img.manifestDigest != first {
		t.Errorf("index.json names manifest %s, build reported %s", img.manifestDigest, first)
	}
	t.Run("config", func(t *testing.T) { checkConfig(t, img) })
	t.Run("layer", func(t *testing.T) { checkLayer(t, img) })

	bin := filepath.Join(dir, "skipper")
	if err := os.WriteFile(bin, img.content[binaryPath], 0o755); err != nil {
		t.Fatal(err)
	}
	t.Run("static", func(t *testing.T) {
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
				t.Errorf("the binary has a %v program header: it is not static", p.Type)
			}
		}
	})
	t.Run("version", func(t *testing.T) {
		out, err := exec.Command(bin, "-version").CombinedOutput()
		if err != nil || !strings.Contains(string(out), testVersion) {
			t.Errorf("skipper -version: %v, %q; want it to name %s", err, out, testVersion)
		}
	})
	t.Run("demo route", func(t *testing.T) { checkDemoRoute(t, bin) })
}

func checkConfig(t *testing.T, img *image) {
	c := img.config
	if c.OS != "linux" || c.Architecture != runtime.GOARCH {
		t.Errorf("image is for %s/%s, want linux/%s", c.OS, c.Architecture, runtime.GOARCH)
	}
	user, group, _ := strings.Cut(c.Config.User, ":")
	if u, err := strconv.Atoi(user); err != nil || u == 0 {
		t.Errorf("User %q, want a numeric non-root uid", c.Config.User)
	}
	if g, err := strconv.Atoi(group); err != nil || g == 0 {
		t.Errorf("User %q, want a numeric non-root gid", c.Config.User)
	}
	if e := c.Config.Entrypoint; len(e) != 1 || e[0] != "/"+binaryPath {
		t.Errorf("Entrypoint %q, want [/%s]", e, binaryPath)
	}
}

func checkLayer(t *testing.T, img *image) {
	for name, h := range img.layer {
		if base := path.Base(name); base == "sh" || base == "bash" || base == "busybox" {
			t.Errorf("the layer holds a shell: %s", name)
		}
		if !h.ModTime.Equal(time.Unix(testEpoch, 0)) || h.Uid != 0 || h.Gid != 0 {
			t.Errorf("%s: mtime %v, owner %d:%d; want %v, 0:0", name, h.ModTime, h.Uid, h.Gid, time.Unix(testEpoch, 0))
		}
		if h.Mode&0o022 != 0 {
			t.Errorf("%s: mode %o is writable by group or others", name, h.Mode)
		}
	}
	if got := string(img.content[caPath]); got != testCA {
		t.Errorf("%s holds %q, want the CA bundle given", caPath, got)
	}
	passwd := string(img.content["etc/passwd"])
	if want := fmt.Sprintf(":%d:%d:", uid, uid); !strings.Contains(passwd, want) || strings.Contains(passwd, "/bin/sh") {
		t.Errorf("etc/passwd %q, want the user %d and no shell", passwd, uid)
	}
	if h := img.layer[binaryPath]; h == nil || h.Mode != 0o755 {
		t.Errorf("%s missing or not mode 755: %+v", binaryPath, h)
	}
}

// listening is the line skipper logs once it accepts connections.
var listening = regexp.MustCompile(`Listening on ([^\s"\\]+)`)

// checkDemoRoute runs the image's binary on the README's demo route, in front of a loopback
// backend, and checks that the token from the secret file arrives.
func checkDemoRoute(t *testing.T, bin string) {
	secrets := t.TempDir()
	token := filepath.Join(secrets, "mytoken")
	if err := os.WriteFile(token, []byte("imagetoken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	backend := proxytest.NewBackend(t, nil)
	routes := fmt.Sprintf(`Host("host1") -> bearerinjector(%q) -> "http://%s/"`, token, backend.Addr())
	cmd := exec.Command(bin, "-inline-routes="+routes, "-credentials-paths="+secrets,
		"-address=127.0.0.1:0", "-support-listener=127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
		close(addr)
	}()
	var a string
	select {
	case a = <-addr:
	case <-time.After(20 * time.Second):
		t.Fatal("skipper did not listen within 20s")
	}
	if a == "" {
		t.Fatal("skipper exited before listening")
	}
	req, _ := http.NewRequest("GET", "http://"+a+"/foo", nil)
	req.Host = "host1"
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("got status %d, want 200", res.StatusCode)
	}
	if got := backend.Last(t).Header.Get("Authorization"); got != "Bearer imagetoken" {
		t.Errorf("backend saw Authorization %q, want the token from the file", got)
	}
}

func TestMissingCABundleSaysWhatToDo(t *testing.T) {
	_, err := build(options{root: "../..", out: filepath.Join(t.TempDir(), "x.tar"), name: "skipper",
		version: testVersion, caBundle: filepath.Join(t.TempDir(), "none.crt"), arch: runtime.GOARCH})
	if err == nil || !strings.Contains(err.Error(), "ca-certificates") || !strings.Contains(err.Error(), "-ca-bundle") {
		t.Errorf("got %v, want an error naming the ca-certificates package and -ca-bundle", err)
	}
}

func TestBadTag(t *testing.T) {
	_, err := build(options{out: filepath.Join(t.TempDir(), "x.tar"), version: "1.0/evil"})
	if err == nil || !strings.Contains(err.Error(), "not a valid image tag") {
		t.Errorf("got %v, want an error about the tag", err)
	}
}
