package main

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"
)

// unsupportedFlags are Skipper's flags of the subsystems this egress proxy leaves out, by
// subsystem. They are registered, hidden, so that a Skipper command line or config file that
// uses them fails with a reason ("not supported by this egress proxy") rather than "unknown
// flag", and so that their values are consumed as Skipper would. The names are Skipper's
// (config/config.go); boolFlags says which of them take no value.
var unsupportedFlags = []struct {
	subsystem string
	names     []string
}{
	{"the Kubernetes data client", []string{
		"kubernetes", "kubernetes-in-cluster", "kubernetes-url", "kubernetes-token-file",
		"kubernetes-healthcheck", "kubernetes-https-redirect", "kubernetes-https-redirect-code",
		"kubernetes-disable-catchall-routes", "kubernetes-ingress-class", "kubernetes-routegroup-class",
		"whitelisted-healthcheck-cidr", "kubernetes-path-mode", "kubernetes-namespace",
		"enable-kubernetes-endpointslices", "kubernetes-topology-zone", "enable-kubernetes-east-west",
		"kubernetes-east-west-domain", "kubernetes-east-west-range-domains",
		"kubernetes-east-west-range-predicates", "kubernetes-annotation-predicates",
		"kubernetes-annotation-filters-append", "kubernetes-east-west-range-annotation-predicates",
		"kubernetes-east-west-range-annotation-filters-append", "enable-kubernetes-external-names",
		"kubernetes-only-allowed-external-names", "kubernetes-allowed-external-name",
		"kubernetes-redis-service-namespace", "kubernetes-redis-service-name", "kubernetes-redis-service-port",
		"kubernetes-valkey-service-namespace", "kubernetes-valkey-service-name", "kubernetes-valkey-service-port",
		"kubernetes-backend-traffic-algorithm", "kubernetes-default-lb-algorithm", "kubernetes-force-service",
		"kubernetes-status-from-service", "kubernetes-enable-tls",
		"validation-webhook-enabled", "validation-webhook-address", "validation-webhook-cert-file",
		"validation-webhook-key-file", "enable-advanced-validation",
	}},
	{"Open Policy Agent", []string{
		"enable-open-policy-agent", "enable-open-policy-agent-custom-control-loop",
		"enable-open-policy-agent-preloading", "enable-open-policy-agent-async-decision-logging",
		"enable-open-policy-agent-data-preprocessing-optimization", "enable-open-policy-agent-print-tracing",
		"open-policy-agent-control-loop-interval", "open-policy-agent-control-loop-max-jitter",
		"open-policy-agent-config-template", "open-policy-agent-envoy-metadata",
		"open-policy-agent-cleaner-interval", "open-policy-agent-startup-timeout",
		"open-policy-agent-max-request-body-size", "open-policy-agent-request-body-buffer-size",
		"open-policy-agent-max-memory-body-parsing",
	}},
	{"OAuth2 grant, tokeninfo, introspection and OIDC", []string{
		"enable-oauth2-grant-flow", "oauth2-auth-url", "oauth2-token-url", "oauth2-revoke-token-url",
		"oauth2-tokeninfo-url", "oauth2-secret-file", "oauth2-client-id", "oauth2-client-secret",
		"oauth2-client-id-file", "oauth2-client-secret-file", "oauth2-callback-path",
		"oauth2-tokeninfo-timeout", "oauth2-tokeninfo-cache-size", "oauth2-tokeninfo-cache-ttl",
		"oauth2-tokenintrospect-timeout", "oauth2-auth-url-parameters", "oauth2-access-token-header-name",
		"oauth2-tokeninfo-subject-key", "oauth2-grant-tokeninfo-keys", "oauth2-token-cookie-name",
		"oauth2-token-cookie-remove-subdomains", "oauth2-grant-insecure", "webhook-timeout",
		"oidc-secrets-file", "oidc-cookie-validity", "oidc-distributed-claims-timeout",
		"oidc-cookie-remove-subdomains",
	}},
	{"Lua", []string{"enable-lua", "lua-modules", "lua-sources"}},
	{"plugins", []string{"plugindir", "filter-plugin", "predicate-plugin", "dataclient-plugin", "multi-plugin"}},
	{"API usage monitoring", []string{
		"enable-api-usage-monitoring", "api-usage-monitoring-realm-keys", "api-usage-monitoring-client-keys",
		"api-usage-monitoring-default-client-tracking-pattern", "api-usage-monitoring-realms-tracking-pattern",
	}},
}

// boolFlags are the unsupported flags that Skipper declares as booleans, besides those whose
// name starts with "enable-": they take no value after them.
var boolFlags = map[string]bool{
	"kubernetes": true, "kubernetes-in-cluster": true, "kubernetes-healthcheck": true,
	"kubernetes-https-redirect": true, "kubernetes-disable-catchall-routes": true,
	"kubernetes-only-allowed-external-names": true, "kubernetes-force-service": true,
	"kubernetes-enable-tls": true, "validation-webhook-enabled": true, "oauth2-grant-insecure": true,
}

// anyValue is the pflag.Value of an unsupported flag: it takes whatever it is given, so that the
// error is the flag's name, never its value.
type anyValue struct{ bool bool }

func (anyValue) String() string { return "" }
func (v anyValue) Type() string {
	if v.bool {
		return "bool"
	}
	return "string"
}
func (anyValue) Set(string) error { return nil }

// addUnsupportedFlags registers every unsupported flag in fs, hidden from the usage.
func addUnsupportedFlags(fs *pflag.FlagSet) {
	for _, group := range unsupportedFlags {
		for _, name := range group.names {
			isBool := boolFlags[name] || strings.HasPrefix(name, "enable-")
			f := fs.VarPF(anyValue{bool: isBool}, name, "", "not supported: "+group.subsystem)
			if isBool {
				f.NoOptDefVal = "true"
			}
			f.Hidden = true
		}
	}
}

// unsupportedError reports the first unsupported flag that fs saw set, in the order they were
// given; nil when none was.
func unsupportedError(fs *pflag.FlagSet) error {
	var err error
	fs.Visit(func(f *pflag.Flag) {
		if _, ok := f.Value.(anyValue); ok && err == nil {
			err = fmt.Errorf("not supported by this egress proxy: -%s (%s)", f.Name, strings.TrimPrefix(f.Usage, "not supported: "))
		}
	})
	return err
}
