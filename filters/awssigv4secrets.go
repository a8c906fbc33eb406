package filters

import (
	"errors"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/skipper-egress/skipper/secrets"
)

// AWSSigV4FromSecretsName is the route name of the filter that signs requests with AWS
// Signature Version 4, with keys read from secrets.
const AWSSigV4FromSecretsName = "awsSigv4FromSecrets"

type sigv4SecretsSpec struct {
	src     SecretSource
	maxBody int64
}

type sigv4SecretsFilter struct {
	src                  SecretSource
	keyID, secret, token string // secret names; token may be ""
	core                 *sigv4Core
	now                  func() time.Time
}

var (
	_ Spec          = (*sigv4SecretsSpec)(nil)
	_ RequestSigner = (*sigv4SecretsFilter)(nil)
	_ SecretUser    = (*sigv4SecretsFilter)(nil)
)

// NewAWSSigV4FromSecrets returns the spec of awsSigv4FromSecrets(service, region,
// accessKeyIdSecret, secretAccessKeySecret[, sessionTokenSecret]). The filter signs each
// attempt's request as it leaves (a RequestSigner, after every other filter, with the Host the
// backend sees) with AWS Signature Version 4, using the AWS SDK's signer, and removes a
// signature the client made first. Its body is hashed when at most maxBody bytes (buffered in
// memory); above that it is sent with UNSIGNED-PAYLOAD to s3 and answered 413 for other
// services. A maxBody of 0 or less means DefaultSigV4MaxBodyBytes.
//
// The keys are looked up in src on each request, so rotated files take effect at once; when
// one is missing, empty or unusable the request fails with a *CredentialError (503) and is not
// sent. src must not be nil; with a nil src every Create fails.
func NewAWSSigV4FromSecrets(src SecretSource, maxBody int64) Spec {
	if maxBody <= 0 {
		maxBody = DefaultSigV4MaxBodyBytes
	}
	return &sigv4SecretsSpec{src: src, maxBody: maxBody}
}

func (*sigv4SecretsSpec) Name() string { return AWSSigV4FromSecretsName }

func (s *sigv4SecretsSpec) Create(args []any) (Filter, error) {
	names := []string{"service", "region", "access key ID secret", "secret access key secret", "session token secret"}
	a, err := stringArgs(AWSSigV4FromSecretsName, args, 4, names...)
	if err != nil {
		return nil, err
	}
	if err := checkScope(AWSSigV4FromSecretsName, a[0], a[1]); err != nil {
		return nil, err
	}
	for i := 2; i < len(a); i++ {
		if err := checkSecretName(AWSSigV4FromSecretsName, i+1, names[i], a[i]); err != nil {
			return nil, err
		}
	}
	if s.src == nil {
		return nil, nilSourceError(AWSSigV4FromSecretsName)
	}
	f := &sigv4SecretsFilter{src: s.src, keyID: a[2], secret: a[3], now: time.Now,
		core: newSigv4Core(AWSSigV4FromSecretsName, a[0], a[1], s.maxBody)}
	if len(a) == 5 {
		f.token = a[4]
	}
	f.core.contentHeader = true
	return f, nil
}

// checkScope checks service and region, which go into the credential scope of the signature:
// letters, digits, '-', '_' and '.', as AWS names them.
func checkScope(filter, service, region string) error {
	for i, v := range []string{service, region} {
		what := [...]string{"service", "region"}[i]
		if v == "" {
			return argsErrorf("%s: argument %d (%s) must not be empty", filter, i+1, what)
		}
		for _, c := range []byte(v) {
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
				return argsErrorf("%s: argument %d (%s) %q may hold only letters, digits, '-', '_' and '.'", filter, i+1, what, v)
			}
		}
	}
	return nil
}

// newSigv4Core returns the signing settings for service and region. S3 takes the URI path as
// it is (no second escaping) and accepts UNSIGNED-PAYLOAD.
func newSigv4Core(name, service, region string, maxBody int64) *sigv4Core {
	c := &sigv4Core{name: name, service: service, region: region, maxBody: maxBody}
	if service == "s3" {
		c.unsigned = true
		c.options.DisableURIPathEscaping = true
	}
	return c
}

// Request does nothing: the filter signs in Egress, once the request is final.
func (*sigv4SecretsFilter) Request(*http.Request) error { return nil }

// SignsRequest marks the filter as a RequestSigner.
func (*sigv4SecretsFilter) SignsRequest() {}

// Egress signs out, the request of this attempt as it leaves.
func (f *sigv4SecretsFilter) Egress(out *http.Request) error {
	if err := f.core.prepare(out); err != nil {
		return err
	}
	creds, key, err := f.credentials()
	if err != nil {
		RecordCredentialUse(out, CredentialUse{Filter: AWSSigV4FromSecretsName, Secret: failedSecret(err, f.secret), Err: err})
		return err
	}
	hash, err := f.core.payloadHash(out)
	if err != nil {
		return err // a request refused (413, 400): no credential was used
	}
	err = f.core.sign(out, creds, hash, f.now())
	// The secret key never leaves, only a signature made with it; the session token does.
	RecordCredentialUse(out, CredentialUse{Filter: AWSSigV4FromSecretsName, Secret: f.secret,
		Value: key, Also: creds.SessionToken, Err: err})
	return err
}

// failedSecret returns the name of the secret err, a credential filter's error, names, or name
// when it names none.
func failedSecret(err error, name string) string {
	if ce, ok := errors.AsType[*CredentialError](err); ok {
		return ce.SecretName
	}
	return name
}

// credentials reads the keys, and returns the secret access key's value as the source holds
// it too; an error is a *CredentialError naming the secret, never a value.
func (f *sigv4SecretsFilter) credentials() (aws.Credentials, secrets.Secret, error) {
	id, err := secretValue(f.src, AWSSigV4FromSecretsName, f.keyID)
	if err != nil {
		return aws.Credentials{}, nil, err
	}
	key, err := secretValue(f.src, AWSSigV4FromSecretsName, f.secret)
	if err != nil {
		return aws.Credentials{}, nil, err
	}
	creds := aws.Credentials{AccessKeyID: string(id), SecretAccessKey: string(key)}
	if f.token != "" {
		tok, err := secretValue(f.src, AWSSigV4FromSecretsName, f.token)
		if err != nil {
			return aws.Credentials{}, nil, err
		}
		creds.SessionToken = string(tok)
	}
	return creds, key, nil
}

// SecretNames returns the names of the secrets the filter reads, in argument order.
func (f *sigv4SecretsFilter) SecretNames() []string {
	if f.token == "" {
		return []string{f.keyID, f.secret}
	}
	return []string{f.keyID, f.secret, f.token}
}
