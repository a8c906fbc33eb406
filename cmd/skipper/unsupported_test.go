package main

import (
	"strings"
	"testing"
)

// TestUnsupportedFlags runs the binary with flags of the subsystems this egress proxy leaves
// out: each exits 2 naming the flag as not supported, never as unknown, whatever its value
// looks like, and a value given apart is taken as the flag's, not as the next flag.
func TestUnsupportedFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-kubernetes"}, "-kubernetes (the Kubernetes data client)"},
		{[]string{"-kubernetes-in-cluster=true", "-kubernetes-namespace", "default"}, "-kubernetes-in-cluster "},
		{[]string{"-enable-open-policy-agent", "-open-policy-agent-config-template", "opa.yaml"}, "-enable-open-policy-agent "},
		{[]string{"-oauth2-tokeninfo-url", "https://auth.example.org/oauth2/tokeninfo"}, "-oauth2-tokeninfo-url "},
		{[]string{"--oauth2-client-id-file=/meta/credentials/{host}-client-id"}, "-oauth2-client-id-file "},
		{[]string{"-enable-lua", "-lua-modules=base,json"}, "-enable-lua (Lua)"},
		{[]string{"-lua-sources", "-address"}, "-lua-sources (Lua)"},
		{[]string{"-plugindir", "./plugins"}, "-plugindir (plugins)"},
		{[]string{"-filter-plugin=geoip,db=GeoLite2-City.mmdb"}, "-filter-plugin (plugins)"},
		{[]string{"-enable-api-usage-monitoring", "-api-usage-monitoring-realm-keys", "https://identity.zalando.com/realm"}, "-enable-api-usage-monitoring "},
		{[]string{"check", "-enable-oauth2-grant-flow", "routes.eskip"}, "-enable-oauth2-grant-flow "},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, stderr, code := runBinary(t, t.TempDir(), tc.args...)
			if code != exitUsage {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, exitUsage, stderr)
			}
			if !strings.Contains(stderr, "skipper: not supported by this egress proxy: "+tc.want) {
				t.Errorf("stderr does not name %q as not supported:\n%s", tc.want, stderr)
			}
			if strings.Contains(stderr, "unknown flag") {
				t.Errorf("stderr calls a Skipper flag unknown:\n%s", stderr)
			}
		})
	}
	// They stay out of the usage: skipper does not offer what it does not do.
	stdout, _, _ := runBinary(t, t.TempDir(), "-help")
	if strings.Contains(stdout, "kubernetes") || strings.Contains(stdout, "lua") {
		t.Errorf("the usage lists unsupported flags:\n%s", stdout)
	}
}
