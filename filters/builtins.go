package filters

import (
	"time"

	"github.com/sirupsen/logrus"

	"github.com/skipper-egress/skipper/filters/ratelimit"
)

// BuiltinsOptions holds what the built-in filters depend on. The zero value is usable.
type BuiltinsOptions struct {
	// Secrets is where the credential filters look their secrets up. It must not be nil for
	// routes that use them to compile.
	Secrets SecretSource
	// Tokens gives the OAuth2 filters their tokens. If nil, they are left out, so
	// routes that use it fail to compile with an unknown filter.
	Tokens *TokenManager
	// RateLimits hands out the rate limit filters' limiters. If nil, a registry without Redis
	// is used, so cluster limits count per instance.
	RateLimits *ratelimit.Registry
	// SigV4MaxBodyBytes is the largest request body the SigV4 filters hash (and so buffer);
	// 0 means DefaultSigV4MaxBodyBytes.
	SigV4MaxBodyBytes int64
	// Log receives what logHeader, logBody and absorb log, and the failures of tee's shadow
	// requests. If nil, they log nothing.
	Log logrus.FieldLogger
	// Now is the clock of physicsShedder, for tests. If nil, time.Now is used.
	Now func() time.Time
	// Bindings say where each secret may go, for swapSecretPlaceholder, which swaps its
	// secret in only toward a destination they allow. If nil, secrets may go anywhere.
	Bindings DestinationPolicy
}

// Builtins returns a new spec of every built-in filter, for NewRegistry.
func Builtins(o BuiltinsOptions) []Spec {
	src := o.Secrets
	specs := []Spec{
		NewBearerInjector(src),
		NewSwapSecretPlaceholder(src, o.Bindings),
		NewSetRequestHeaderFromSecret(src),
		NewBasicAuthFromSecret(src),
		NewBasicAuth(o.Log),
		NewAWSSigV4FromSecrets(src, o.SigV4MaxBodyBytes),
		NewAWSSigV4(o.SigV4MaxBodyBytes),
		NewTLSClientCertFromSecrets(src, o.Log),
		NewSetRequestHeader(),
		NewDropRequestHeader(),
		NewAppendRequestHeader(),
		NewCopyRequestHeader(),
		NewSetResponseHeader(),
		NewAppendResponseHeader(),
		NewDropResponseHeader(),
		NewCopyResponseHeader(),
		NewDropRequestHeaderRegexp(),
		NewDropResponseHeaderRegexp(),
		NewModRequestHeader(),
		NewModResponseHeader(),
		NewSetPath(),
		NewModPath(),
		NewSetQuery(),
		NewDropQuery(),
		NewStripQuery(),
		NewHeaderToQuery(),
		NewQueryToHeader(),
		NewXForward(),
		NewXForwardFirst(),
		NewFlowID(),
		NewRFCPath(),
		NewRFCHost(),
		NewComment(),
		NewOriginMarker(),
		NewAnnotate(),
		NewDisableAccessLog(),
		NewEnableAccessLog(),
		NewMaskAccessLogQuery(),
		NewUnverifiedAuditLog(),
		NewLogHeader(o.Log),
		NewLogBody(o.Log),
		NewAbsorb(o.Log),
		NewAbsorbSilent(o.Log),
		NewCorsOrigin(),
		NewRequestCookie(),
		NewResponseCookie(),
		NewJSCookie(),
		NewDropRequestCookie(),
		NewDropResponseCookie(),
		NewStatus(),
		NewInlineContent(),
		NewInlineContentIfStatus(),
		NewStatic(),
		NewRepeatContent(),
		NewRepeatContentHex(),
		NewWrapContent(),
		NewWrapContentHex(),
		NewRandomContent(),
		NewCompress(),
		NewDecompress(),
		NewRedirectTo(),
		NewRedirectToLower(),
		NewFifo(),
		NewFifoWithBody(),
		NewLifo(),
		NewLifoGroup(),
		NewBackendTimeout(),
		NewReadTimeout(),
		NewWriteTimeout(),
		NewConsistentHashKey(),
		NewConsistentHashBalanceFactor(),
		NewPreserveHost(),
		NewBackendIsProxy(),
	}
	specs = append(specs, NewDynamicBackendSpecs()...)
	specs = append(specs, NewDeprecatedSpecs()...)
	specs = append(specs, NewTracingSpecs()...)
	specs = append(specs, NewTeeSpecs(o.Log)...)
	specs = append(specs, NewLatencySpecs()...)
	specs = append(specs, NewHistogramLatencySpecs()...)
	specs = append(specs, NewThrottleSpecs()...)
	specs = append(specs, NewContextHeaderSpecs()...)
	specs = append(specs, NewSedSpecs()...)
	specs = append(specs, NewBlockContentSpecs()...)
	specs = append(specs, NewDropHeaderValueRegexpSpecs()...)
	specs = append(specs, NewHeaderBase64Specs()...)
	specs = append(specs, NewHeaderEncodeSpecs()...)
	specs = append(specs, NewUnsupportedSpecs()...)
	specs = append(specs, NewRateLimitSpecs(o.RateLimits)...)
	specs = append(specs, NewBackendRateLimit(o.RateLimits))
	specs = append(specs, NewClusterLeakyBucketRateLimit(o.RateLimits))
	specs = append(specs, NewDisableRateLimit(), NewRateLimitFailClosed(), NewTarpit())
	specs = append(specs, NewPhysicsShedder(o.Now, o.Log))
	specs = append(specs, NewBreakerSpecs()...)
	if o.Tokens != nil {
		specs = append(specs, NewOAuth2ClientCredentials(o.Tokens), NewOAuth2ClientCredentialsJWT(o.Tokens),
			NewOAuth2JWTBearer(o.Tokens), NewOAuth2TokenExchange(o.Tokens),
			NewOAuth2RefreshToken(o.Tokens))
	}
	return specs
}
