package routesrc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/skipper-egress/skipper/routing"
)

// Fetching routes URLs. A routes URL follows the rules of the routes file where they carry
// over: a document that does not parse, and a fetch that fails (no answer, a status other
// than 200, a body cut short), keep the URL's routes in service; so does a document whose
// routes, with all the others, give no route that compiles. A complete 200 answer is a whole document, so an empty one is taken as
// meant: the URL then gives no routes. Until a URL has loaded once, the table serves without
// it and the load counts as failed (readiness, metrics), as for a routes file broken at start.

const (
	// urlTimeout limits one fetch, the answer's body included.
	urlTimeout = 30 * time.Second
	// maxURLBody is the largest eskip document a routes URL may answer with.
	maxURLBody = 64 << 20
)

// urlSource is one routes URL and what it gave. Its fields are guarded by Loader.mu.
type urlSource struct {
	url  string
	name string // url without user info or query, which may hold credentials: for logs and errors

	loaded  bool                // defs came from a document that parsed and was applied
	defs    []*routing.RouteDef // the routes in service from this URL
	last    []byte              // the last document fetched, applied or not
	read    bool                // last is set
	failing bool                // the last fetch failed; logged once until it succeeds
}

// ParseRoutesURL checks a routes URL: absolute, http or https, with a host.
func ParseRoutesURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("not an http:// or https:// URL")
	}
	return u, nil
}

// initURLs checks the routes URLs and fetches each once; New calls it before the first apply.
func (l *Loader) initURLs() error {
	for _, s := range l.opts.URLs {
		u, err := ParseRoutesURL(s)
		if err != nil {
			return fmt.Errorf("routes URL %q: %w", displayURL(s), err)
		}
		l.urls = append(l.urls, &urlSource{url: s, name: (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()})
	}
	if len(l.urls) > 0 && l.client == nil {
		l.client = &http.Client{Timeout: urlTimeout}
	}
	for _, u := range l.urls {
		body, err := l.fetch(u)
		l.mu.Lock()
		if defs, ok := l.takeURL(u, body, err); ok {
			u.defs, u.loaded = defs, true
		}
		l.mu.Unlock()
	}
	return nil
}

// displayURL is s without what may hold credentials, for an error about s.
func displayURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable)"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// refreshURLs fetches every routes URL and applies what changed.
func (l *Loader) refreshURLs() {
	for _, u := range l.urls {
		body, err := l.fetch(u)
		l.mu.Lock()
		if defs, ok := l.takeURL(u, body, err); ok {
			prevDefs, prevLoaded := u.defs, u.loaded
			u.defs, u.loaded = defs, true
			if !l.apply(l.fileDefs, !l.fileOK) {
				u.defs, u.loaded = prevDefs, prevLoaded
			}
		}
		l.mu.Unlock()
	}
}

// takeURL handles one fetch of u: it logs a failure, and returns the routes of a document that
// parsed and differs from the last one fetched. l.mu must be held.
func (l *Loader) takeURL(u *urlSource, body []byte, err error) ([]*routing.RouteDef, bool) {
	if err != nil {
		if !u.failing {
			l.log.Errorf("Cannot fetch routes URL %s, keeping its current routes: %v", u.name, err)
		}
		u.failing = true
		if l.applied {
			l.report(Result{})
		}
		return nil, false
	}
	if u.failing {
		l.log.Infof("Routes URL %s answers again", u.name)
		u.failing = false
	}
	if u.read && bytes.Equal(body, u.last) {
		return nil, false
	}
	u.last, u.read = body, true
	defs, err := routing.Parse(u.name, string(body))
	if err != nil {
		l.log.Errorf("Routes URL not applied, keeping its current routes: %v", err)
		if l.applied {
			l.report(Result{})
		}
		return nil, false
	}
	return defs, true
}

// fetch GETs u's document.
func (l *Loader) fetch(u *urlSource) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), urlTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.url, nil)
	if err != nil {
		return nil, errors.New("not a URL")
	}
	res, err := l.client.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // its message repeats the URL, credentials and all
		}
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %s", res.Status)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxURLBody+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("reading the answer: %w", err)
	case len(body) > maxURLBody:
		return nil, fmt.Errorf("the answer is larger than %d bytes", maxURLBody)
	}
	return body, nil
}

// runURLs refreshes the routes URLs every PollInterval until ctx is done.
func (l *Loader) runURLs(ctx context.Context) {
	t := time.NewTicker(l.opts.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			l.refreshURLs()
		}
	}
}
