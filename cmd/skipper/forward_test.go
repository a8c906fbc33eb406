package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skipper-egress/skipper/internal/proxytest"
)

// tlsBackend starts a loopback HTTPS backend whose certificate, for 127.0.0.1, is written to
// dir; it returns the backend and the certificate's path, for -backend-ca-file.
func tlsBackend(t *testing.T, dir string, seen chan<- http.Header) (*httptest.Server, string) {
	t.Helper()
	certFile, keyFile, _ := proxytest.WriteCert(t, dir, "backend", "127.0.0.1")
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	b := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Header.Clone()
		io.WriteString(w, "backend-ok")
	}))
	b.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	b.StartTLS()
	t.Cleanup(b.Close)
	return b, certFile
}

func TestForwardProxyInterceptsHTTPS(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if code := run([]string{"ca", "init", filepath.Join(dir, "ca")}, &out, &errOut); code != exitOK {
		t.Fatalf("skipper ca init: exit %d: %s", code, errOut.String())
	}
	caCert, caKey := filepath.Join(dir, "ca", "ca.crt"), filepath.Join(dir, "ca", "ca.key")
	if !strings.Contains(out.String(), caCert) {
		t.Errorf("ca init output does not name %s:\n%s", caCert, out.String())
	}
	writeFile(t, filepath.Join(dir, "token"), canary+"-fwd\n")
	seen := make(chan http.Header, 4)
	backend, backendCA := tlsBackend(t, dir, seen)
	routes := fmt.Sprintf(`
		icpt: Method("CONNECT") && Host(/^api[.]example[.]test:443$/) -> <loopback>;
		api: Host(/^api[.]example[.]test(:443)?$/) -> bearerinjector("%s/token") -> "%s";`, dir, backend.URL)
	p := start(t, "-inline-routes="+routes, "-credentials-paths="+dir, "-backend-ca-file="+backendCA,
		"-ca-cert="+caCert, "-ca-key="+caKey)

	pem, err := os.ReadFile(caCert)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	proxyURL, _ := url.Parse("http://" + p.addr)
	client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL), TLSClientConfig: &tls.Config{RootCAs: roots}}}
	t.Cleanup(client.CloseIdleConnections)

	t.Run("go client", func(t *testing.T) {
		res, err := client.Get("https://api.example.test/v1")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || string(body) != "backend-ok" {
			t.Fatalf("got %d %q, want 200 backend-ok", res.StatusCode, body)
		}
		if got := (<-seen).Get("Authorization"); got != "Bearer "+canary+"-fwd" {
			t.Errorf("backend saw Authorization %q, want the injected token", got)
		}
	})
	t.Run("curl", func(t *testing.T) {
		curl, err := exec.LookPath("curl")
		if err != nil {
			t.Skip("no curl")
		}
		cmd := exec.Command(curl, "-sS", "--cacert", caCert, "https://api.example.test/v1")
		cmd.Env = append(os.Environ(), "HTTPS_PROXY=http://"+p.addr, "NO_PROXY=")
		got, err := cmd.CombinedOutput()
		if err != nil || string(got) != "backend-ok" {
			t.Fatalf("curl: %v: %q, want backend-ok", err, got)
		}
		if got := (<-seen).Get("Authorization"); got != "Bearer "+canary+"-fwd" {
			t.Errorf("backend saw Authorization %q, want the injected token", got)
		}
	})
	t.Run("no route", func(t *testing.T) {
		_, err := client.Get("https://other.example.test/")
		if err == nil || !strings.Contains(err.Error(), "Forbidden") {
			t.Errorf("got error %v, want the proxy's 403", err)
		}
	})
}

func TestForwardProxyFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-ca-cert=/x"}, "-ca-cert and -ca-key go together"},
		{[]string{"-forward-allow-cidrs=10.0.0.0/33"}, "-forward-allow-cidrs"},
		{[]string{"-max-tunnels=-1"}, "-max-tunnels must not be negative"},
		{[]string{"-tunnel-idle-timeout=-1s"}, "-tunnel-idle-timeout must not be negative"},
	} {
		t.Run(tc.args[0], func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(tc.args, &out, &errOut); code != exitUsage || !strings.Contains(errOut.String(), tc.want) {
				t.Errorf("got exit %d %q, want %d and %q", code, errOut.String(), exitUsage, tc.want)
			}
		})
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"ca"}, &out, &errOut); code != exitUsage {
		t.Errorf("skipper ca: got exit %d, want %d", code, exitUsage)
	}
}

func TestForwardProxyAuthFromSecretFile(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "proxy-auth"), "svc:"+canary+"-pw\n")
	backend := proxytest.NewBackend(t, nil)
	p := start(t, fmt.Sprintf(`-inline-routes=Host(/^a[.]test$/) -> "http://%s"`, backend.Addr()),
		"-credentials-paths="+dir, "-forward-proxy-auth="+filepath.Join(dir, "proxy-auth"))
	for _, tc := range []struct {
		userinfo string
		want     int
	}{
		{"", http.StatusProxyAuthRequired},
		{"svc:wrong@", http.StatusProxyAuthRequired},
		{"svc:" + canary + "-pw@", http.StatusOK},
	} {
		proxyURL, _ := url.Parse("http://" + tc.userinfo + p.addr)
		client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL)}}
		res, err := client.Get("http://a.test/")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		client.CloseIdleConnections()
		if res.StatusCode != tc.want {
			t.Errorf("credentials %q: got %d, want %d", strings.Split(tc.userinfo, ":")[0], res.StatusCode, tc.want)
		}
	}
	if v, ok := backend.Last(t).Header["Proxy-Authorization"]; ok {
		t.Errorf("backend got Proxy-Authorization %q, want none", v)
	}
}
