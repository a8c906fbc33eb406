package filters

// Builtins returns a new spec of every built-in filter, for NewRegistry. The credential filters
// look their secrets up in src, which must not be nil for routes that use them to compile.
// oauth2ClientCredentials gets its tokens from tokens; if tokens is nil, that filter is left
// out, so routes that use it fail to compile with an unknown filter.
func Builtins(src SecretSource, tokens *TokenManager) []Spec {
	specs := []Spec{
		NewBearerInjector(src),
		NewSetRequestHeaderFromSecret(src),
		NewBasicAuthFromSecret(src),
		NewSetRequestHeader(),
		NewDropRequestHeader(),
		NewAppendRequestHeader(),
		NewCopyRequestHeader(),
		NewSetResponseHeader(),
		NewAppendResponseHeader(),
		NewDropResponseHeader(),
		NewCopyResponseHeader(),
		NewSetPath(),
		NewModPath(),
		NewSetQuery(),
		NewDropQuery(),
		NewComment(),
	}
	if tokens != nil {
		specs = append(specs, NewOAuth2ClientCredentials(tokens))
	}
	return specs
}
