package filters_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/filtertest"
	"github.com/skipper-egress/skipper/internal/proxytest"
	"github.com/skipper-egress/skipper/internal/syncbuf"
)

func TestTLSClientCertFromSecrets(t *testing.T) {
	ca := proxytest.NewCA(t)
	certA, keyA, serialA := ca.ClientCertPEM(t, "a")
	certB, keyB, serialB := ca.ClientCertPEM(t, "b")
	src := filtertest.Secrets{"/s/crt": string(certA), "/s/key": string(keyA)}
	logs := &syncbuf.Buffer{}
	log := logrus.New()
	log.SetOutput(logs)
	spec := filters.NewTLSClientCertFromSecrets(src, log)

	for _, args := range [][]any{{"/s/crt"}, {"/s/crt", ""}, {"/s/crt", "/s/key", "x"}, {"/s/crt", 1.0}} {
		if _, err := spec.Create(args); err == nil {
			t.Errorf("Create(%v) succeeded, want an error", args)
		}
	}
	f := filtertest.Create(t, spec, "/s/crt", "/s/key")
	if got := f.(filters.SecretUser).SecretNames(); strings.Join(got, " ") != "/s/crt /s/key" {
		t.Errorf("SecretNames: got %v", got)
	}
	serial := func(f filters.Filter) string {
		t.Helper()
		id, err := f.(filters.ClientCertifier).ClientIdentity()
		if err != nil {
			t.Fatalf("ClientIdentity: %v", err)
		}
		return id.Certificates[0].Leaf.SerialNumber.String()
	}
	if got := serial(f); got != serialA {
		t.Fatalf("got certificate %s, want %s", got, serialA)
	}
	// Unchanged values give the same identity, also to another route naming the same files.
	id1, _ := f.(filters.ClientCertifier).ClientIdentity()
	id2, _ := filtertest.Create(t, spec, "/s/crt", "/s/key").(filters.ClientCertifier).ClientIdentity()
	if id1 != id2 {
		t.Error("the same files gave two identities")
	}

	// A certificate without its key yet keeps the pair before; with its key, it is used.
	src.Set("/s/crt", string(certB))
	if got := serial(f); got != serialA {
		t.Errorf("mismatched pair: got certificate %s, want the previous %s", got, serialA)
	}
	if !strings.Contains(logs.String(), "/s/crt and /s/key") {
		t.Errorf("the log does not name the files: %s", logs)
	}
	src.Set("/s/key", string(keyB))
	if got := serial(f); got != serialB {
		t.Errorf("rotated: got certificate %s, want %s", got, serialB)
	}

	// A missing secret fails the request as an unavailable credential; a pair that never loaded too.
	src.Delete("/s/key")
	if err := f.Request(filtertest.Request(t, "GET", "https://x.test/")); !errors.Is(err, filters.ErrCredentialUnavailable) {
		t.Errorf("missing key: got %v, want ErrCredentialUnavailable", err)
	}
	bad := filtertest.Create(t, spec, "/s/key2", "/s/crt")
	src.Set("/s/key2", string(keyB))
	err := bad.Request(filtertest.Request(t, "GET", "https://x.test/"))
	if !errors.Is(err, filters.ErrCredentialUnavailable) || !strings.Contains(err.Error(), "/s/key2 and /s/crt") {
		t.Errorf("swapped files: got %v, want ErrCredentialUnavailable naming the files", err)
	}
	keyBody := strings.Split(string(keyB), "\n")[1]
	if strings.Contains(err.Error(), keyBody) || strings.Contains(logs.String(), keyBody) {
		t.Error("key material in an error or the log")
	}
}
