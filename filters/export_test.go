package filters

import "time"

// LifoWaiting returns how many requests wait in the queue of f, a lifo or lifoGroup filter.
func LifoWaiting(f Filter) int {
	q := f.(*lifoFilter).q
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.stack)
}

// HistogramDelay draws one wait of f, a histogramRequestLatency or histogramResponseLatency
// filter, without waiting it.
func HistogramDelay(f Filter) time.Duration { return f.(*histogramLatencyFilter).delay() }

// SetSigV4Clock makes f, an awsSigv4FromSecrets filter, sign at the times now gives, and sets
// whether it signs X-Amz-Content-Sha256 (the published test vectors mostly do not).
func SetSigV4Clock(f Filter, now func() time.Time, contentHeader bool) {
	sf := f.(*sigv4SecretsFilter)
	sf.now = now
	sf.core.contentHeader = contentHeader
}

// SignAssertion signs claims with the private key in the secret name of src (and its ".kid"),
// as the JWT grants sign their assertions.
func SignAssertion(src SecretSource, name string, claims map[string]any) (string, error) {
	k, err := loadSigningKey(src, "test", name)
	if err != nil {
		return "", err
	}
	return k.sign(claims)
}
