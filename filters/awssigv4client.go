package filters

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// AWSSigV4Name is the route name of Skipper's awsSigv4 filter, which signs with keys the client
// sends in request headers.
const AWSSigV4Name = "awsSigv4"

// The request headers awsSigv4 takes the keys and the signing time from, as in Skipper. They
// are removed from every request of the route, whether it is signed or not.
const (
	headerAmzAccessKey = "X-Amz-Accesskey"
	headerAmzSecret    = "X-Amz-Secret"
	headerAmzSession   = "X-Amz-Session"
	headerAmzTime      = "X-Amz-Time"
)

var clientKeyHeaders = []string{headerAmzAccessKey, headerAmzSecret, headerAmzSession, headerAmzTime}

type sigv4ClientSpec struct{ maxBody int64 }

type sigv4ClientFilter struct{ core *sigv4Core }

var (
	_ Spec          = (*sigv4ClientSpec)(nil)
	_ RequestSigner = (*sigv4ClientFilter)(nil)
)

// NewAWSSigV4 returns the spec of Skipper's awsSigv4(service, region, DisableHeaderHoisting,
// DisableURIPathEscaping, DisableSessionToken), the last three "true" or "false". It signs as
// awsSigv4FromSecrets does (last, on the request as it leaves, the client's own signature
// removed, the body up to maxBody hashed), but with the keys the client sends: X-Amz-Accesskey,
// X-Amz-Secret, X-Amz-Session (optional; ignored with DisableSessionToken) and the signing time
// in X-Amz-Time (RFC 3339). Those headers never reach the backend. A request without a key or
// time is answered 400, where Skipper would send it unsigned. DisableHeaderHoisting only
// concerns presigned URLs, which this filter does not make; it is accepted for Skipper's routes.
// A maxBody of 0 or less means DefaultSigV4MaxBodyBytes.
func NewAWSSigV4(maxBody int64) Spec {
	if maxBody <= 0 {
		maxBody = DefaultSigV4MaxBodyBytes
	}
	return &sigv4ClientSpec{maxBody: maxBody}
}

func (*sigv4ClientSpec) Name() string { return AWSSigV4Name }

func (s *sigv4ClientSpec) Create(args []any) (Filter, error) {
	names := []string{"service", "region", "DisableHeaderHoisting", "DisableURIPathEscaping", "DisableSessionToken"}
	a, err := stringArgs(AWSSigV4Name, args, 5, names...)
	if err != nil {
		return nil, err
	}
	if err := checkScope(AWSSigV4Name, a[0], a[1]); err != nil {
		return nil, err
	}
	var flags [3]bool
	for i := range flags {
		if flags[i], err = strconv.ParseBool(a[i+2]); err != nil {
			return nil, argsErrorf("%s: argument %d (%s) must be \"true\" or \"false\", got %q", AWSSigV4Name, i+3, names[i+2], a[i+2])
		}
	}
	c := &sigv4Core{name: AWSSigV4Name, service: a[0], region: a[1], maxBody: s.maxBody, unsigned: a[0] == "s3",
		contentHeader: a[0] == "s3"} // S3 wants X-Amz-Content-Sha256; Skipper sets it for no one
	c.options.DisableHeaderHoisting = flags[0]
	c.options.DisableURIPathEscaping = flags[1]
	c.options.DisableSessionToken = flags[2]
	return &sigv4ClientFilter{core: c}, nil
}

// Request does nothing: the filter signs in Egress, once the request is final.
func (*sigv4ClientFilter) Request(*http.Request) error { return nil }

// SignsRequest marks the filter as a RequestSigner.
func (*sigv4ClientFilter) SignsRequest() {}

// Egress takes the keys out of out's header and signs out with them.
func (f *sigv4ClientFilter) Egress(out *http.Request) error {
	var vals [4]string
	for k, vv := range out.Header {
		for i, name := range clientKeyHeaders {
			if strings.EqualFold(k, name) {
				if len(vv) > 0 {
					vals[i] = vv[0]
				}
				delete(out.Header, k)
			}
		}
	}
	for _, i := range []int{0, 1, 3} {
		if vals[i] == "" {
			return f.core.reply(http.StatusBadRequest, "missing request header "+clientKeyHeaders[i])
		}
	}
	t, err := time.Parse(time.RFC3339, vals[3])
	if err != nil {
		return f.core.reply(http.StatusBadRequest, headerAmzTime+" is not an RFC 3339 time")
	}
	if err := f.core.prepare(out); err != nil {
		return err
	}
	hash, err := f.core.payloadHash(out)
	if err != nil {
		return err
	}
	creds := aws.Credentials{AccessKeyID: vals[0], SecretAccessKey: vals[1]}
	if !f.core.options.DisableSessionToken {
		creds.SessionToken = vals[2]
	}
	return f.core.sign(out, creds, hash, t)
}
