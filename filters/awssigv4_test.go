package filters_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/filtertest"
	"github.com/skipper-egress/skipper/secrets"
)

func TestAWSSigV4FromSecretsBadArgs(t *testing.T) {
	testBadArgs(t, filters.NewAWSSigV4FromSecrets(filtertest.Secrets{}, 0), []argsCase{
		{"three", []any{"s3", "us-east-1", "/s/id"}, "awsSigv4FromSecrets: want 4 to 5 string arguments " +
			"(service, region, access key ID secret, secret access key secret[, session token secret]), got 3"},
		{"six", []any{"s3", "us-east-1", "/s/id", "/s/key", "/s/tok", "x"}, ""},
		{"number", []any{"s3", 1.0, "/s/id", "/s/key"}, "awsSigv4FromSecrets: argument 2 (region) must be a string, got float64"},
		{"empty service", []any{"", "us-east-1", "/s/id", "/s/key"}, "awsSigv4FromSecrets: argument 1 (service) must not be empty"},
		{"slash in region", []any{"s3", "us/east", "/s/id", "/s/key"},
			`awsSigv4FromSecrets: argument 2 (region) "us/east" may hold only letters, digits, '-', '_' and '.'`},
		{"empty secret", []any{"s3", "us-east-1", "/s/id", ""}, "awsSigv4FromSecrets: argument 4 (secret access key secret) must not be empty"},
		{"empty token", []any{"s3", "us-east-1", "/s/id", "/s/key", ""}, "awsSigv4FromSecrets: argument 5 (session token secret) must not be empty"},
	})
	_, err := filters.NewAWSSigV4FromSecrets(nil, 0).Create([]any{"s3", "us-east-1", "/s/id", "/s/key"})
	if !errors.Is(err, filters.ErrCredentialUnavailable) {
		t.Errorf("nil source: got error %v, want one wrapping ErrCredentialUnavailable", err)
	}
}

func TestAWSSigV4FromSecretsIsASignerAndSecretUser(t *testing.T) {
	f := filtertest.Create(t, filters.NewAWSSigV4FromSecrets(filtertest.Secrets{}, 0), "s3", "us-east-1", "/s/id", "/s/key", "/s/tok")
	if _, ok := f.(filters.RequestSigner); !ok {
		t.Error("not a RequestSigner: it would not run last")
	}
	if got := f.(filters.SecretUser).SecretNames(); !slices.Equal(got, []string{"/s/id", "/s/key", "/s/tok"}) {
		t.Errorf("SecretNames: got %q", got)
	}
}

// TestAWSSigV4FromSecretsUnavailable: each missing or unusable secret fails the request with a
// *CredentialError naming it, never a value.
func TestAWSSigV4FromSecretsUnavailable(t *testing.T) {
	const canary = "CANARY-sigv4-unit-3e1"
	for _, tc := range []struct {
		name, missing string
		src           filtertest.Secrets
	}{
		{"key ID", "/s/id", filtertest.Secrets{"/s/key": canary, "/s/tok": canary}},
		{"secret key", "/s/key", filtertest.Secrets{"/s/id": "AKID", "/s/tok": canary}},
		{"token", "/s/tok", filtertest.Secrets{"/s/id": "AKID", "/s/key": canary}},
		{"control character", "/s/key", filtertest.Secrets{"/s/id": "AKID", "/s/key": canary + "\r", "/s/tok": canary}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := filtertest.Create(t, filters.NewAWSSigV4FromSecrets(tc.src, 0), "sqs", "us-east-1", "/s/id", "/s/key", "/s/tok")
			r := filtertest.Request(t, "GET", "http://sqs.test/", "Authorization", "AWS4-HMAC-SHA256 Credential=PLACEHOLDER/x")
			err := f.(filters.EgressFilter).Egress(r)
			var ce *filters.CredentialError
			if !errors.As(err, &ce) || ce.SecretName != tc.missing || !errors.Is(err, filters.ErrCredentialUnavailable) {
				t.Fatalf("got error %v, want a CredentialError for %s", err, tc.missing)
			}
			if tc.name != "control character" && !errors.Is(err, secrets.ErrNotFound) {
				t.Errorf("got error %v, want one wrapping secrets.ErrNotFound", err)
			}
			checkNoLeak(t, err, canary)
		})
	}
}
