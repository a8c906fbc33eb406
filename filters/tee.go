package filters

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
)

// Route names of the filters that send a shadow copy of the request elsewhere.
const (
	TeeName           = "tee"
	TeeNoFollowName   = "teenf"
	TeeDeprecatedName = "Tee"
)

// Bounds of the shadow traffic: a copy waits for no one, holds at most teeMaxBody of the
// request body, gets teeTimeout to be answered, and at most teeMaxInFlight copies are under
// way at once (over all tee routes); a copy that would pass a bound is not sent.
const (
	teeMaxBody     = 1 << 20
	teeTimeout     = 10 * time.Second
	teeMaxInFlight = 64
	teeMaxDrain    = 64 << 10 // of a shadow answer read, so that its connection can be reused
)

// teeShared is what the tee specs share: the client of the shadow requests and the slots that
// bound them.
type teeShared struct {
	client, noFollow *http.Client
	slots            chan struct{}
	log              logrus.FieldLogger
}

type teeSpec struct {
	name   string
	follow bool
	shared *teeShared
}

type teeFilter struct {
	shared       *teeShared
	client       *http.Client
	scheme, host string
	rx           *regexp.Regexp
	replacement  string
}

var (
	_ Spec   = (*teeSpec)(nil)
	_ Filter = (*teeFilter)(nil)
)

// NewTeeSpecs returns the specs of tee(url[, regexp, replacement]), its deprecated name Tee,
// teenf, which does not follow the shadow backend's redirects, and teeResponse and
// teeLoopback (see their Create), which share their client and bounds. Each sends a copy of the
// request to url's scheme and host, as Skipper's do, with the path (rewritten by regexp and
// replacement when given) and query the filters before it left, and does not wait for it: the
// copy's answer is read and dropped. Failures of the shadow backend are logged to log at debug
// level; if log is nil, nothing is logged.
//
// The copy carries the header the client sent, not the one the route's filters made: a
// credential this proxy injects is meant for the route's backend and never goes to a shadow
// one, whatever the order of the filters, and even when a filter copied it to another header.
// Skipper's copy carries the changes of the filters before tee.
//
// Shadow traffic never slows the real request: the body is passed on as the backend reads it,
// and copied aside up to 1 MiB; the copy is sent once the body is read to its end, and not at
// all if the body is longer, if the backend never reads all of it, or if 64 copies are already
// under way. A copy gets 10 seconds.
func NewTeeSpecs(log logrus.FieldLogger) []Spec {
	tr := &http.Transport{
		MaxIdleConnsPerHost: 8,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: teeTimeout,
	}
	sh := &teeShared{
		client: &http.Client{Transport: tr, Timeout: teeTimeout},
		noFollow: &http.Client{Transport: tr, Timeout: teeTimeout, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
		slots: make(chan struct{}, teeMaxInFlight),
		log:   log,
	}
	if sh.log == nil {
		l := logrus.New()
		l.Out = io.Discard
		sh.log = l
	}
	return []Spec{
		&teeSpec{name: TeeName, follow: true, shared: sh},
		&teeSpec{name: TeeDeprecatedName, follow: true, shared: sh},
		&teeSpec{name: TeeNoFollowName, shared: sh},
		&teeResponseSpec{shared: sh},
		&teeLoopbackSpec{shared: sh},
	}
}

func (s *teeSpec) Name() string { return s.name }

func (s *teeSpec) Create(args []any) (Filter, error) {
	if len(args) != 1 && len(args) != 3 {
		return nil, argsErrorf("%s: want 1 or 3 string arguments (url[, regexp, replacement]), got %d", s.name, len(args))
	}
	a, err := stringArgs(s.name, args, 1, "url", "regexp", "replacement")
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(a[0])
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, argsErrorf("%s: argument 1 (url) must be an http or https URL with a host", s.name)
	}
	f := &teeFilter{shared: s.shared, client: s.shared.noFollow, scheme: u.Scheme, host: u.Host}
	if s.follow {
		f.client = s.shared.client
	}
	if len(a) == 3 {
		if f.rx, err = regexp.Compile(a[1]); err != nil {
			return nil, argsErrorf("%s: argument 2 (regexp): %v", s.name, err)
		}
		f.replacement = a[2]
	}
	return f, nil
}

// Request prepares the copy, and sends it now or, when the request has a body, once the
// backend has read the body to its end.
func (f *teeFilter) Request(r *http.Request) error {
	cp := &http.Request{
		Method: r.Method,
		URL: &url.URL{Scheme: f.scheme, Host: f.host, Path: r.URL.Path, RawPath: r.URL.RawPath,
			RawQuery: r.URL.RawQuery},
		Header: shadowHeader(Incoming(r).Header),
		Host:   f.host,
	}
	if f.rx != nil {
		cp.URL.Path, cp.URL.RawPath = f.rx.ReplaceAllString(cp.URL.Path, f.replacement), ""
	}
	if r.Body == nil || r.Body == http.NoBody {
		f.send(cp, nil)
		return nil
	}
	r.Body = &teeBody{ReadCloser: r.Body, done: func(body []byte) { f.send(cp, body) }}
	return nil
}

// send sends cp with body in the background, if a slot is free.
func (f *teeFilter) send(cp *http.Request, body []byte) { f.shared.send(TeeName, f.client, cp, body) }

// send sends cp with body through client in the background, if a slot is free; filter names
// the filter in the log.
func (sh *teeShared) send(filter string, client *http.Client, cp *http.Request, body []byte) {
	select {
	case sh.slots <- struct{}{}:
	default:
		sh.log.WithField("filter", filter).Debug("shadow request dropped: too many under way")
		return
	}
	if len(body) > 0 {
		cp.Body = io.NopCloser(bytes.NewReader(body))
		cp.ContentLength = int64(len(body))
	}
	go sh.shadow(filter, client, cp)
}

// shadow sends one copy and drops its answer. The copy outlives the request it copies, so its
// context is its own.
func (sh *teeShared) shadow(filter string, client *http.Client, cp *http.Request) {
	defer func() { <-sh.slots }()
	ctx, cancel := context.WithTimeout(context.Background(), teeTimeout)
	defer cancel()
	res, err := client.Do(cp.WithContext(ctx))
	if err != nil {
		sh.log.WithField("filter", filter).WithField("backend", cp.URL.Host).Debugf("shadow request failed: %v", err)
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, teeMaxDrain))
	res.Body.Close()
}

// teeBody passes a body on and keeps a copy of it, which it hands to done once the body is
// read to its end; a body longer than teeMaxBody is not copied.
type teeBody struct {
	io.ReadCloser
	done    func(body []byte)
	buf     bytes.Buffer
	dropped bool // longer than teeMaxBody, or handed over
}

func (b *teeBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if !b.dropped {
		if b.buf.Len()+n > teeMaxBody {
			b.dropped = true
			b.buf = bytes.Buffer{}
		} else {
			b.buf.Write(p[:n])
		}
		if err == io.EOF && !b.dropped {
			b.dropped = true
			b.done(b.buf.Bytes())
		}
	}
	return n, err
}

// hopHeaders are the fields that belong to one connection (RFC 9110 §7.6.1), and so are not
// copied into a shadow request, with Proxy-Authorization, which is for this proxy alone, and
// the framing fields of a body the copy sends whole.
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Authorization", "Proxy-Connection",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade", "Content-Length", "Expect"}

// shadowHeader copies the client's header for a shadow request, without the fields of the
// client's connection.
func shadowHeader(h http.Header) http.Header {
	out := h.Clone()
	if out == nil {
		out = make(http.Header)
	}
	for _, v := range out["Connection"] {
		for name := range strings.SplitSeq(v, ",") {
			delete(out, textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(name)))
		}
	}
	for _, k := range hopHeaders {
		delete(out, k)
	}
	if _, ok := out["User-Agent"]; !ok {
		out["User-Agent"] = nil // the client sent none; Go would add its own
	}
	return out
}
