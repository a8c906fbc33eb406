package filters

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/skipper-egress/skipper/internal/httpsyntax"
)

// DefaultSigV4MaxBodyBytes is the largest request body the SigV4 filters hash into the
// signature unless -sigv4-max-body-bytes says otherwise: 10 MiB, buffered in memory.
const DefaultSigV4MaxBodyBytes = 10 << 20

const (
	headerAmzDate          = "X-Amz-Date"
	headerAmzContentSHA256 = "X-Amz-Content-Sha256"
	headerAmzSecurityToken = "X-Amz-Security-Token"
	emptyPayloadSHA256     = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	unsignedPayload        = "UNSIGNED-PAYLOAD"
)

// clientSignatureHeaders are the header fields of a signature the client made itself (an AWS
// SDK needs keys, so it is given placeholders): they are removed before the proxy signs, so
// that neither a placeholder nor a stale date or token reaches AWS beside the real signature.
var clientSignatureHeaders = []string{headerAuthorization, headerAmzDate, headerAmzContentSHA256, headerAmzSecurityToken}

// clientSignatureParams are the query parameters of a presigned URL. AWS refuses a request
// that carries both a presigned query and an Authorization header, so they are removed too.
var clientSignatureParams = []string{
	"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
	"X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token",
}

// sigv4Core is what awsSigv4FromSecrets and awsSigv4 share: the request preparation (the
// client's signature removed, the body hashed) and the AWS SDK's signer.
type sigv4Core struct {
	name            string // the filter's name, for errors
	service, region string
	maxBody         int64
	// unsigned allows UNSIGNED-PAYLOAD for a body over maxBody (S3); without it such a
	// body is answered 413.
	unsigned bool
	// contentHeader sets X-Amz-Content-Sha256 to the payload hash, and so signs it.
	contentHeader bool
	options       v4.SignerOptions

	// signer is replaced when the secret access key changes: the SDK caches derived keys by
	// access key ID only, so a secret rotated under the same ID would still sign with the old
	// one.
	signer atomic.Pointer[sigv4Signer]
}

type sigv4Signer struct {
	secret string
	signer *v4.Signer
}

// sigv4Reply answers the client with status and a one-line reason.
func (c *sigv4Core) reply(status int, reason string) *Reply {
	return &Reply{Status: status, Header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}},
		Body: c.name + ": " + reason + "\n"}
}

// prepare checks that out can be signed and removes the client's own signature. It answers
// aws-chunked streaming uploads 400: their chunk signatures chain from the seed signature the
// client made, so the proxy cannot re-sign them without rewriting the body.
func (c *sigv4Core) prepare(out *http.Request) error {
	if isStreamingUpload(out.Header) {
		return c.reply(http.StatusBadRequest, "aws-chunked streaming uploads (X-Amz-Content-Sha256: STREAMING-...) "+
			"cannot be re-signed by the proxy; have the client send a plain body "+
			"(for the AWS SDKs: request checksum calculation \"when_required\")")
	}
	for k := range out.Header {
		for _, name := range clientSignatureHeaders {
			if strings.EqualFold(k, name) {
				delete(out.Header, k)
			}
		}
	}
	if out.URL.RawQuery == "" {
		return nil
	}
	// The signer sends the query as it signs it, re-encoded from its parsed form; a query Go
	// cannot parse in full would lose its unparsable part on the way, so it is refused.
	q, err := url.ParseQuery(out.URL.RawQuery)
	if err != nil {
		return c.reply(http.StatusBadRequest, "the query cannot be signed: it does not parse")
	}
	removed := false
	for k := range q {
		for _, name := range clientSignatureParams {
			if strings.EqualFold(k, name) {
				delete(q, k)
				removed = true
			}
		}
	}
	if removed {
		out.URL.RawQuery = q.Encode()
	}
	return nil
}

// isStreamingUpload reports whether h announces an aws-chunked body: a STREAMING-* payload
// hash, Content-Encoding aws-chunked, or X-Amz-Decoded-Content-Length.
func isStreamingUpload(h http.Header) bool {
	for _, v := range h[headerAmzContentSHA256] {
		if len(v) >= 10 && strings.EqualFold(v[:10], "STREAMING-") {
			return true
		}
	}
	if httpsyntax.HasToken(h["Content-Encoding"], "aws-chunked") {
		return true
	}
	_, decoded := h["X-Amz-Decoded-Content-Length"]
	return decoded
}

// payloadHash returns the hex SHA-256 of out's body, which it buffers so that the body can be
// sent after it was read, and sets GetBody, so that a retry can send it again. A body over
// maxBody (told by Content-Length, or found by reading maxBody+1 bytes of a body of unknown
// length) is not hashed: UNSIGNED-PAYLOAD where the service allows it, else 413.
func (c *sigv4Core) payloadHash(out *http.Request) (string, error) {
	if out.Body == nil || out.Body == http.NoBody {
		return emptyPayloadSHA256, nil
	}
	if b, ok := out.Body.(*sigv4Body); ok {
		// A retry's body, buffered by an earlier attempt.
		return c.buffered(out, b.data), nil
	}
	if out.ContentLength > c.maxBody {
		return c.tooLarge(out)
	}
	var buf bytes.Buffer
	if out.ContentLength > 0 {
		buf.Grow(int(out.ContentLength) + bytes.MinRead) // one allocation: ReadFrom wants MinRead spare
	}
	_, err := buf.ReadFrom(io.LimitReader(out.Body, c.maxBody+1))
	data := buf.Bytes()
	if err != nil {
		return "", fmt.Errorf("%s: reading the request body: %w", c.name, err)
	}
	if int64(len(data)) > c.maxBody {
		out.Body = &sigv4Rest{Reader: io.MultiReader(bytes.NewReader(data), out.Body), Closer: out.Body}
		return c.tooLarge(out)
	}
	out.Body.Close() // read to its end
	return c.buffered(out, data), nil
}

// buffered makes data out's body and returns its hash.
func (c *sigv4Core) buffered(out *http.Request, data []byte) string {
	out.ContentLength = int64(len(data))
	out.TransferEncoding = nil
	if len(data) == 0 {
		out.Body, out.GetBody = http.NoBody, nil
		return emptyPayloadSHA256
	}
	out.Body = newSigv4Body(data)
	out.GetBody = func() (io.ReadCloser, error) { return newSigv4Body(data), nil }
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func (c *sigv4Core) tooLarge(out *http.Request) (string, error) {
	if c.unsigned {
		return unsignedPayload, nil
	}
	return "", c.reply(http.StatusRequestEntityTooLarge, fmt.Sprintf(
		"the request body is over %d bytes, the most this proxy hashes into a signature (-sigv4-max-body-bytes)", c.maxBody))
}

// sigv4Body is a buffered request body; a retry recognises it and hashes it without a copy.
type sigv4Body struct {
	*bytes.Reader
	data []byte
}

func newSigv4Body(data []byte) *sigv4Body {
	return &sigv4Body{Reader: bytes.NewReader(data), data: data}
}

func (*sigv4Body) Close() error { return nil }

// sigv4Rest is a body too large to buffer: the bytes read to find that out, then the rest.
type sigv4Rest struct {
	io.Reader
	io.Closer
}

// sign signs out with creds, at time t, over payloadHash.
func (c *sigv4Core) sign(out *http.Request, creds aws.Credentials, payloadHash string, t time.Time) error {
	if c.contentHeader {
		out.Header[headerAmzContentSHA256] = []string{payloadHash}
	}
	s := c.signer.Load()
	if s == nil || s.secret != creds.SecretAccessKey {
		s = &sigv4Signer{secret: creds.SecretAccessKey, signer: v4.NewSigner(func(o *v4.SignerOptions) { *o = c.options })}
		c.signer.Store(s)
	}
	if err := s.signer.SignHTTP(context.Background(), creds, out, payloadHash, c.service, c.region, t); err != nil {
		return fmt.Errorf("%s: signing: %w", c.name, err) // the SDK's errors hold no key
	}
	return nil
}
