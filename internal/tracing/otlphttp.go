package tracing

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// otlpHTTP sends spans to an OTLP/HTTP collector in the binary protobuf encoding. It is the
// transport of an otlptrace.Exporter, which turns the SDK's spans into OTLP messages and
// batches them; this is all that is left: one POST per batch.
//
// Not the SDK's own otlptracehttp: that package links the OTLP collector service definitions,
// and with them gRPC, gRPC-gateway and their protobufs, which cost about 4 MB of resident memory
// in every skipper process, tracing or not. The request it sends, an ExportTraceServiceRequest,
// has one field, resource_spans = 1, as TracesData does: marshalling TracesData writes the same
// bytes (the tests' collector decodes it as the collector's own type).
type otlpHTTP struct {
	url         string
	headers     map[string]string
	gzip        bool
	timeout     time.Duration
	client      *http.Client
	closeIdle   func()
	maxResponse int64
}

// otlpEndpoint is where spans go: Skipper's exporterOtlp.endpoint + "/v1/traces", else
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is, else OTEL_EXPORTER_OTLP_ENDPOINT +
// "/v1/traces", else the specification's default, http://localhost:4318/v1/traces.
func (o *Options) otlpEndpoint() string {
	if o.TracesExporter == "otlp" && o.ExporterOtlp.Endpoint != "" {
		return strings.TrimSuffix(o.ExporterOtlp.Endpoint, "/") + "/v1/traces"
	}
	if v := strings.TrimSpace(os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")); v != "" {
		return v
	}
	base := firstOf(os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT"), "http://localhost:4318")
	return strings.TrimSuffix(base, "/") + "/v1/traces"
}

// otlpEnv returns the traces-specific OTEL_EXPORTER_OTLP_TRACES_name, else the general
// OTEL_EXPORTER_OTLP_name.
func otlpEnv(name string) string {
	return firstOf(os.Getenv("OTEL_EXPORTER_OTLP_TRACES_"+name), os.Getenv("OTEL_EXPORTER_OTLP_"+name))
}

// newOTLPHTTP configures the client from o and the OTEL_EXPORTER_OTLP_* variables: the
// endpoint, HEADERS (name=value pairs, comma-separated, values URL-encoded), TIMEOUT
// (milliseconds, default 10000), COMPRESSION (gzip or none), CERTIFICATE (CA bundle to trust),
// CLIENT_CERTIFICATE and CLIENT_KEY. The errors name the variable, never a header's value.
func (o *Options) newOTLPHTTP() (*otlpHTTP, error) {
	c := &otlpHTTP{url: o.otlpEndpoint(), headers: map[string]string{}, timeout: 10 * time.Second, maxResponse: 64 << 10}
	// The endpoint may hold a password (user:password@host): errors quote it redacted, and not
	// at all when it does not parse.
	u, err := url.Parse(c.url)
	if err != nil {
		return nil, errors.New("OTLP endpoint: not a URL: want an http or https URL")
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("OTLP endpoint %q: want an http or https URL", u.Redacted())
	}
	if h := otlpEnv("HEADERS"); h != "" {
		for kv := range strings.SplitSeq(h, ",") {
			k, v, ok := strings.Cut(kv, "=")
			k = strings.TrimSpace(k)
			v, uerr := url.PathUnescape(strings.TrimSpace(v))
			if !ok || k == "" || uerr != nil {
				return nil, errors.New("OTEL_EXPORTER_OTLP_HEADERS: want name=value pairs separated by commas")
			}
			c.headers[k] = v
		}
	}
	for k, v := range o.ExporterOtlp.Headers {
		c.headers[k] = v
	}
	if t := otlpEnv("TIMEOUT"); t != "" {
		ms, err := strconv.Atoi(t)
		if err != nil || ms <= 0 {
			return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_TIMEOUT %q: want a positive number of milliseconds", t)
		}
		c.timeout = time.Duration(ms) * time.Millisecond
	}
	switch comp := otlpEnv("COMPRESSION"); comp {
	case "gzip":
		c.gzip = true
	case "", "none":
	default:
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_COMPRESSION %q: want gzip or none", comp)
	}
	tlsConf, err := otlpTLS()
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsConf
	c.client = &http.Client{Transport: tr, Timeout: c.timeout}
	c.closeIdle = tr.CloseIdleConnections
	return c, nil
}

// otlpTLS is the TLS configuration the CERTIFICATE, CLIENT_CERTIFICATE and CLIENT_KEY
// variables describe; nil for Go's defaults.
func otlpTLS() (*tls.Config, error) {
	ca, cert, key := otlpEnv("CERTIFICATE"), otlpEnv("CLIENT_CERTIFICATE"), otlpEnv("CLIENT_KEY")
	if ca == "" && cert == "" && key == "" {
		return nil, nil
	}
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_CERTIFICATE: %w", err)
		}
		conf.RootCAs = x509.NewCertPool()
		if !conf.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_CERTIFICATE: %s holds no PEM certificate", ca)
		}
	}
	if cert != "" || key != "" {
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and _CLIENT_KEY: %w", err)
		}
		conf.Certificates = []tls.Certificate{pair}
	}
	return conf, nil
}

func (c *otlpHTTP) Start(context.Context) error { return nil }

func (c *otlpHTTP) Stop(context.Context) error {
	c.closeIdle()
	return nil
}

// UploadTraces POSTs one batch. A collector's refusal is an error with its status; the batch
// is dropped (the SDK's batch processor logs the error through otel.Handle).
func (c *otlpHTTP) UploadTraces(ctx context.Context, spans []*tracepb.ResourceSpans) error {
	body, err := proto.Marshal(&tracepb.TracesData{ResourceSpans: spans})
	if err != nil {
		return fmt.Errorf("OTLP: encoding spans: %w", err)
	}
	if c.gzip {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(body) //nolint:errcheck // a bytes.Buffer does not fail
		zw.Close()     //nolint:errcheck // a bytes.Buffer does not fail
		body = b.Bytes()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("OTLP: %w", err)
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	if c.gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	res, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("OTLP: sending spans: %w", err)
	}
	defer res.Body.Close()
	io.Copy(io.Discard, io.LimitReader(res.Body, c.maxResponse)) //nolint:errcheck // for connection reuse only
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("OTLP: the collector answered %s", res.Status)
	}
	return nil
}
