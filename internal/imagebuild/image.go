package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"time"
)

// The image's user and where its files go.
const (
	uid        = 65532
	binaryPath = "usr/local/bin/skipper"
	caPath     = "etc/ssl/certs/ca-certificates.crt"
)

const (
	mediaIndex    = "application/vnd.oci.image.index.v1+json"
	mediaManifest = "application/vnd.oci.image.manifest.v1+json"
	mediaConfig   = "application/vnd.oci.image.config.v1+json"
	mediaLayer    = "application/vnd.oci.image.layer.v1.tar+gzip"
)

type options struct {
	root     string // the module's root directory
	out      string // the archive to write
	name     string // image name without tag
	version  string // built into the binary; the image's tag
	caBundle string // PEM file copied into the image
	arch     string // GOARCH
	epoch    int64  // every timestamp in the image, in seconds since 1970
}

// descriptor is an OCI content descriptor.
type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int               `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// build writes the image archive and returns the manifest's digest.
func build(o options) (string, error) {
	if !tagPattern.MatchString(o.version) {
		return "", fmt.Errorf("version %q is not a valid image tag (letters, digits, _ . -)", o.version)
	}
	ca, err := os.ReadFile(o.caBundle)
	if err != nil {
		return "", fmt.Errorf("reading the CA bundle: %v (install Debian's ca-certificates package or give -ca-bundle)", err)
	}
	tmp, err := os.MkdirTemp("", "imagebuild-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	bin, err := buildBinary(o, filepath.Join(tmp, "skipper"))
	if err != nil {
		return "", err
	}
	mtime := time.Unix(o.epoch, 0).UTC()
	layer, err := layerTar(mtime, bin, ca)
	if err != nil {
		return "", err
	}
	blobs := map[string][]byte{}
	add := func(media string, b []byte) descriptor {
		d := descriptor{MediaType: media, Digest: digest(b), Size: len(b)}
		blobs[d.Digest] = b
		return d
	}
	gz, err := gzipped(layer)
	if err != nil {
		return "", err
	}
	layerDesc := add(mediaLayer, gz)
	config, err := json.Marshal(imageConfig(o, mtime, digest(layer)))
	if err != nil {
		return "", err
	}
	configDesc := add(mediaConfig, config)
	manifest, err := json.Marshal(struct {
		SchemaVersion int          `json:"schemaVersion"`
		MediaType     string       `json:"mediaType"`
		Config        descriptor   `json:"config"`
		Layers        []descriptor `json:"layers"`
	}{2, mediaManifest, configDesc, []descriptor{layerDesc}})
	if err != nil {
		return "", err
	}
	manifestDesc := add(mediaManifest, manifest)
	ref := o.name + ":" + o.version
	manifestDesc.Annotations = map[string]string{
		"org.opencontainers.image.ref.name": o.version,
		"io.containerd.image.name":          ref,
	}
	index, err := json.Marshal(struct {
		SchemaVersion int          `json:"schemaVersion"`
		MediaType     string       `json:"mediaType"`
		Manifests     []descriptor `json:"manifests"`
	}{2, mediaIndex, []descriptor{manifestDesc}})
	if err != nil {
		return "", err
	}
	// manifest.json is what docker load reads when it does not read the OCI layout (before 25).
	dockerManifest, err := json.Marshal([]map[string]any{{
		"Config":   blobPath(configDesc.Digest),
		"RepoTags": []string{ref},
		"Layers":   []string{blobPath(layerDesc.Digest)},
	}})
	if err != nil {
		return "", err
	}
	files := map[string][]byte{
		"oci-layout":    []byte(`{"imageLayoutVersion":"1.0.0"}`),
		"index.json":    index,
		"manifest.json": dockerManifest,
	}
	for d, b := range blobs {
		files[blobPath(d)] = b
	}
	archive, err := tarOf(mtime, []string{"blobs/", "blobs/sha256/"}, files, nil)
	if err != nil {
		return "", err
	}
	if err := writeAtomically(o.out, archive); err != nil {
		return "", err
	}
	return manifestDesc.Digest, nil
}

// buildBinary builds a static, reproducible skipper at path and returns it.
func buildBinary(o options, path string) ([]byte, error) {
	cmd := exec.Command("go", "build", "-trimpath",
		"-ldflags", "-s -w -buildid= -X main.version="+o.version, "-o", path, "./cmd/skipper")
	cmd.Dir = o.root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+o.arch)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building skipper: %v\n%s", err, out)
	}
	return os.ReadFile(path)
}

// imageConfig is the OCI image configuration: who runs what, and the layer's uncompressed digest.
func imageConfig(o options, created time.Time, diffID string) any {
	type config struct {
		User         string              `json:"User"`
		Entrypoint   []string            `json:"Entrypoint"`
		Env          []string            `json:"Env"`
		WorkingDir   string              `json:"WorkingDir"`
		ExposedPorts map[string]struct{} `json:"ExposedPorts"`
		Labels       map[string]string   `json:"Labels"`
	}
	return struct {
		Created      string         `json:"created"`
		Architecture string         `json:"architecture"`
		OS           string         `json:"os"`
		Config       config         `json:"config"`
		RootFS       map[string]any `json:"rootfs"`
		History      []any          `json:"history"`
	}{
		Created:      created.Format(time.RFC3339),
		Architecture: o.arch,
		OS:           "linux",
		Config: config{
			User:       fmt.Sprintf("%d:%d", uid, uid),
			Entrypoint: []string{"/" + binaryPath},
			Env: []string{"PATH=/usr/local/bin",
				"SSL_CERT_FILE=/" + caPath},
			WorkingDir:   "/",
			ExposedPorts: map[string]struct{}{"9090/tcp": {}, "9911/tcp": {}},
			Labels: map[string]string{
				"org.opencontainers.image.title":   "skipper",
				"org.opencontainers.image.version": o.version,
				"org.opencontainers.image.created": created.Format(time.RFC3339),
			},
		},
		RootFS:  map[string]any{"type": "layers", "diff_ids": []string{diffID}},
		History: []any{map[string]string{"created": created.Format(time.RFC3339), "created_by": "make image"}},
	}
}

// layerTar is the image's only layer: the binary, the CA bundle and the user, all owned by root.
func layerTar(mtime time.Time, bin, ca []byte) ([]byte, error) {
	dirs := []string{"etc/", "etc/ssl/", "etc/ssl/certs/", "usr/", "usr/local/", "usr/local/bin/"}
	files := map[string][]byte{
		binaryPath:   bin,
		caPath:       ca,
		"etc/passwd": fmt.Appendf(nil, "nonroot:x:%d:%d:nonroot:/nonexistent:/sbin/nologin\n", uid, uid),
		"etc/group":  fmt.Appendf(nil, "nonroot:x:%d:\n", uid),
	}
	return tarOf(mtime, dirs, files, map[string]int64{binaryPath: 0o755})
}

// tarOf writes dirs (mode 0755), then files (mode 0644 unless modes says otherwise) in name
// order, every entry owned by 0:0 with mtime: the same input always gives the same bytes.
func tarOf(mtime time.Time, dirs []string, files map[string][]byte, modes map[string]int64) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, d := range dirs {
		h := &tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: 0o755, ModTime: mtime, Format: tar.FormatUSTAR}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		mode := modes[n]
		if mode == 0 {
			mode = 0o644
		}
		h := &tar.Header{Typeflag: tar.TypeReg, Name: n, Mode: mode, Size: int64(len(files[n])),
			ModTime: mtime, Format: tar.FormatUSTAR}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(files[n]); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// gzipped compresses b with a header that holds no name and no time.
func gzipped(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// blobPath is where the OCI layout keeps the blob with digest d ("sha256:…").
func blobPath(d string) string { return "blobs/sha256/" + d[len("sha256:"):] }

// writeAtomically replaces path with b, so that a failed build leaves no half-written image.
func writeAtomically(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
