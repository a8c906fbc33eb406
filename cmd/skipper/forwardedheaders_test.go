package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/skipper-egress/skipper/internal/proxy"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

func TestForwardedHeadersFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    proxy.ForwardedHeaders
		wantErr string // a usage error (exit 2) holding this
	}{
		{"none by default", nil, proxy.ForwardedHeaders{}, ""},
		{"empty", []string{"-forwarded-headers="}, proxy.ForwardedHeaders{}, ""},
		{"every header", []string{"-forwarded-headers=X-Forwarded-For,X-Forwarded-Host,X-Forwarded-Method,X-Forwarded-Uri,X-Forwarded-Port=8080,X-Forwarded-Proto=https"},
			proxy.ForwardedHeaders{For: true, Host: true, Method: true, URI: true, Port: "8080", Proto: "https"}, ""},
		{"auto", []string{"--forwarded-headers", "X-Forwarded-Port=auto,X-Forwarded-Proto=auto"},
			proxy.ForwardedHeaders{Port: "auto", Proto: "auto"}, ""},
		{"repeated, names in any case, blanks", []string{"-forwarded-headers=x-forwarded-for, X-FORWARDED-PROTO=http", "-forwarded-headers=X-Forwarded-Port=0443"},
			proxy.ForwardedHeaders{For: true, Proto: "http", Port: "443"}, ""},
		{"later port wins", []string{"-forwarded-headers=X-Forwarded-Port=80,X-Forwarded-Port=auto"}, proxy.ForwardedHeaders{Port: "auto"}, ""},
		{"exclude", []string{"-forwarded-headers=X-Forwarded-For", "-forwarded-headers-exclude-cidrs=10.1.2.3/8, ::1/128"},
			proxy.ForwardedHeaders{For: true, Exclude: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}}, ""},
		{"unknown header", []string{"-forwarded-headers=X-Forwarded-Prefix"}, proxy.ForwardedHeaders{},
			`-forwarded-headers: unknown entry "X-Forwarded-Prefix", want X-Forwarded-For,`},
		{"value on a header without one", []string{"-forwarded-headers=X-Forwarded-For=1.2.3.4"}, proxy.ForwardedHeaders{},
			`-forwarded-headers: unknown entry "X-Forwarded-For=1.2.3.4"`},
		{"port without value", []string{"-forwarded-headers=X-Forwarded-Port"}, proxy.ForwardedHeaders{},
			`-forwarded-headers: unknown entry "X-Forwarded-Port"`},
		{"empty entry", []string{"-forwarded-headers=X-Forwarded-For,,X-Forwarded-Host"}, proxy.ForwardedHeaders{},
			`-forwarded-headers: unknown entry ""`},
		{"bad port", []string{"-forwarded-headers=X-Forwarded-Port=http"}, proxy.ForwardedHeaders{},
			`-forwarded-headers: "X-Forwarded-Port=http": the port must be a number from 1 to 65535 or auto`},
		{"port zero", []string{"-forwarded-headers=X-Forwarded-Port=0"}, proxy.ForwardedHeaders{}, `"X-Forwarded-Port=0": the port must be`},
		{"port too large", []string{"-forwarded-headers=X-Forwarded-Port=65536"}, proxy.ForwardedHeaders{}, `"X-Forwarded-Port=65536": the port must be`},
		{"bad proto", []string{"-forwarded-headers=X-Forwarded-Proto=ftp"}, proxy.ForwardedHeaders{},
			`-forwarded-headers: "X-Forwarded-Proto=ftp": the proto must be http, https or auto`},
		{"proto in upper case", []string{"-forwarded-headers=X-Forwarded-Proto=HTTPS"}, proxy.ForwardedHeaders{}, `the proto must be http, https or auto`},
		{"bad CIDR", []string{"-forwarded-headers-exclude-cidrs=10.0.0.0/33"}, proxy.ForwardedHeaders{},
			`-forwarded-headers-exclude-cidrs: "10.0.0.0/33" is not a CIDR such as 10.0.0.0/8`},
		{"address without length", []string{"-forwarded-headers-exclude-cidrs=10.0.0.1"}, proxy.ForwardedHeaders{},
			`-forwarded-headers-exclude-cidrs: "10.0.0.1" is not a CIDR`},
		{"every problem at once", []string{"-forwarded-headers=X-Nope,X-Forwarded-Port=x", "-forwarded-headers-exclude-cidrs=nope"}, proxy.ForwardedHeaders{},
			`unknown entry "X-Nope", want X-Forwarded-For, X-Forwarded-Host, X-Forwarded-Method, X-Forwarded-Uri, X-Forwarded-Port=<port|auto> or X-Forwarded-Proto=<http|https|auto>; ` +
				`-forwarded-headers: "X-Forwarded-Port=x": the port must be a number from 1 to 65535 or auto; -forwarded-headers-exclude-cidrs: "nope" is not a CIDR`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _, err := parseFlags(tc.args)
			if tc.wantErr != "" {
				var stdout, stderr strings.Builder
				if code := run(tc.args, &stdout, &stderr); code != exitUsage || !strings.Contains(stderr.String(), tc.wantErr) {
					t.Errorf("got exit code %d, stderr %q; want %d, holding %q", code, stderr.String(), exitUsage, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, errs := cfg.forwardedHeaders()
			if len(errs) > 0 || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, errors %v; want %+v", got, errs, tc.want)
			}
		})
	}
}

// TestForwardedHeadersThroughBinary runs skipper over HTTPS with -forwarded-headers and checks
// what the backend gets from an HTTP/1.1 client, whose TLS the listener terminates itself, and
// from an HTTP/2 one; then that an excluded client gets no header.
func TestForwardedHeadersThroughBinary(t *testing.T) {
	dir := t.TempDir()
	cert, key, _ := proxytest.WriteCert(t, dir, "site", "127.0.0.1")
	pem, err := os.ReadFile(cert)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	backend := proxytest.NewBackend(t, nil)
	route := fmt.Sprintf(`-inline-routes=* -> "http://%s"`, backend.Addr())
	headers := "-forwarded-headers=X-Forwarded-For,X-Forwarded-Host,X-Forwarded-Port=auto,X-Forwarded-Proto=auto"

	p := start(t, route, "-tls-cert="+cert, "-tls-key="+key, headers)
	_, port, err := net.SplitHostPort(p.addr)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, proto string
		alpn        []string
	}{
		{"HTTP/1.1", "HTTP/1.1", []string{"http/1.1"}},
		{"HTTP/2", "HTTP/2.0", []string{"h2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, NextProtos: tc.alpn}, ForceAttemptHTTP2: tc.proto == "HTTP/2.0"}
			defer tr.CloseIdleConnections()
			res, err := (&http.Client{Transport: tr}).Get("https://" + p.addr + "/x")
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.Proto != tc.proto || res.StatusCode != http.StatusOK {
				t.Fatalf("got %s %d, want %s 200", res.Proto, res.StatusCode, tc.proto)
			}
			h := backend.Last(t).Header
			want := map[string]string{
				"X-Forwarded-For": "127.0.0.1", "X-Forwarded-Host": p.addr, "X-Forwarded-Port": port, "X-Forwarded-Proto": "https",
			}
			for name, v := range want {
				if got := h.Get(name); got != v {
					t.Errorf("backend got %s %q, want %q", name, got, v)
				}
			}
		})
	}

	excluded := start(t, route, headers, "-forwarded-headers-exclude-cidrs=10.0.0.0/8,127.0.0.0/8")
	excluded.get(t, "api.test", "/")
	for name, v := range backend.Last(t).Header {
		if strings.HasPrefix(name, "X-Forwarded-") {
			t.Errorf("excluded client: backend got %s %q, want none", name, v)
		}
	}
}
