package filters_test

import (
	"slices"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/filtertest"
)

func TestBuiltins(t *testing.T) {
	src := filtertest.Secrets{}
	tokens, err := filters.NewTokenManager(filters.TokenManagerOptions{Secrets: src})
	if err != nil {
		t.Fatalf("NewTokenManager: %v", err)
	}
	base := []string{
		filters.BasicAuthFromSecretName, filters.BasicAuthName, filters.BearerInjectorName,
		filters.AWSSigV4FromSecretsName, filters.AWSSigV4Name, filters.DropRequestHeaderName,
		filters.TLSClientCertFromSecretsName,
		filters.SetRequestHeaderName, filters.SetRequestHeaderFromSecretName,
		filters.AppendRequestHeaderName, filters.CopyRequestHeaderName, filters.SetResponseHeaderName,
		filters.AppendResponseHeaderName, filters.DropResponseHeaderName, filters.CopyResponseHeaderName,
		filters.SetPathName, filters.ModPathName, filters.SetQueryName, filters.DropQueryName,
		filters.CommentName, filters.RateLimitName, filters.ClientRateLimitName,
		filters.ClusterRateLimitName, filters.ClusterClientRateLimitName, filters.LocalRateLimitName,
		filters.ClusterLeakyBucketRateLimitName, filters.PhysicsShedderName, filters.BackendIsProxyName,
		filters.ConsecutiveBreakerName, filters.RateBreakerName, filters.DisableBreakerName,
		filters.StatusName, filters.InlineContentName, filters.RedirectToName,
		filters.BackendTimeoutName, filters.PreserveHostName, filters.ConsistentHashKeyName,
		filters.ConsistentHashBalanceFactorName,
		filters.ReadTimeoutName, filters.WriteTimeoutName,
		filters.SetDynamicBackendURLName, filters.SetDynamicBackendHostName,
		filters.SetDynamicBackendSchemeName, filters.SetDynamicBackendURLFromHeaderName,
		filters.SetDynamicBackendHostFromHeaderName, filters.SetDynamicBackendSchemeFromHeaderName,
		filters.StripQueryName, filters.ModRequestHeaderName, filters.ModResponseHeaderName,
		filters.AnnotateName, filters.DisableAccessLogName, filters.EnableAccessLogName, filters.LogHeaderName,
		filters.CorsOriginName, filters.InlineContentIfStatusName,
		filters.RequestCookieName, filters.ResponseCookieName, filters.JSCookieName,
		filters.DropRequestCookieName, filters.DropResponseCookieName,
		filters.RequestHeaderName, filters.ResponseHeaderName, filters.RequestCopyHeaderName,
		filters.ResponseCopyHeaderName, filters.AccessLogDisabledName, filters.RedirectName, filters.HealthCheckName,
		filters.RepeatContentName, filters.RepeatContentHexName, filters.LogBodyName,
		filters.CompressName, filters.DecompressName, filters.BackendRateLimitName,
		filters.TeeName, filters.TeeNoFollowName, filters.TeeDeprecatedName,
		filters.HeaderToQueryName, filters.QueryToHeaderName, filters.XForwardName, filters.XForwardFirstName,
		filters.WrapContentName, filters.WrapContentHexName, filters.RandomContentName,
		filters.RedirectToLowerName, filters.FlowIDName, filters.LatencyName, filters.BackendLatencyName,
		filters.UniformRequestLatencyName, filters.NormalRequestLatencyName, filters.UniformResponseLatencyName,
		filters.NormalResponseLatencyName, filters.RFCPathName, filters.RFCHostName,
		filters.BandwidthName, filters.ChunksName, filters.BackendBandwidthName, filters.BackendChunksName,
		filters.AbsorbName, filters.AbsorbSilentName, filters.SetContextRequestHeaderName,
		filters.AppendContextRequestHeaderName, filters.SetContextResponseHeaderName,
		filters.AppendContextResponseHeaderName, filters.SedName, filters.SedDelimName, filters.SedRequestName,
		filters.SedRequestDelimName, filters.MaskAccessLogQueryName, filters.FifoName, filters.FifoWithBodyName,
		filters.LifoName, filters.LifoGroupName, filters.DropRequestHeaderRegexpName, filters.DropResponseHeaderRegexpName,
		filters.TracingTagName, filters.TracingTagFromResponseName, filters.TracingTagFromResponseIfStatusName,
		filters.TracingBaggageToTagName, filters.TracingSpanNameName, filters.StateBagToTagName,
		filters.UnverifiedAuditLogName, filters.DropRequestHeaderValueRegexpName, filters.DropResponseHeaderValueRegexpName,
		filters.HistogramRequestLatencyName, filters.HistogramResponseLatencyName, filters.TeeResponseName,
		filters.StaticName, filters.TeeLoopbackName, filters.OriginMarkerName,
		filters.EncodeBase64RequestHeaderName, filters.EncodeBase64ResponseHeaderName,
		filters.DecodeBase64RequestHeaderName, filters.DecodeBase64ResponseHeaderName,
		filters.EncodeRequestHeaderName, filters.EncodeResponseHeaderName,
		filters.SwapSecretPlaceholderName, filters.BlockContentName, filters.BlockContentHexName,
		filters.DisableRateLimitName, filters.RateLimitFailClosedName, filters.TarpitName,
	}
	for _, s := range filters.NewUnsupportedSpecs() {
		base = append(base, s.Name())
	}
	tests := []struct {
		name   string
		tokens *filters.TokenManager
		want   []string
	}{
		{"without token manager", nil, base},
		{"with token manager", tokens, append(slices.Clone(base), filters.OAuth2ClientCredentialsName,
			filters.OAuth2ClientCredentialsJWTName, filters.OAuth2JWTBearerName,
			filters.OAuth2TokenExchangeName, filters.OAuth2RefreshTokenName)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg, err := filters.NewRegistry(filters.Builtins(filters.BuiltinsOptions{Secrets: src, Tokens: tc.tokens})...)
			if err != nil {
				t.Fatalf("NewRegistry: %v", err)
			}
			want := slices.Sorted(slices.Values(tc.want))
			if got := reg.Names(); !slices.Equal(got, want) {
				t.Errorf("got names %q, want %q", got, want)
			}
			for _, name := range want {
				if s, ok := reg.Lookup(name); !ok || s.Name() != name {
					t.Errorf("Lookup(%q) = %v, %v; want the spec of that name", name, s, ok)
				}
			}
		})
	}
}
