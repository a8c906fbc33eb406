// Package tlsreload serves TLS certificates from files and picks up new ones without a restart:
// when the files change, and when asked (on SIGHUP).
//
// It polls the files' metadata rather than watching them with file-system events. A stat of
// two files every couple of seconds costs nothing, sees every way a certificate gets replaced
// (rewritten in place, renamed over, a Kubernetes ..data symlink swap, a file on a network
// mount) without the directory-watch bookkeeping that renames and symlinks need, and the
// delay is irrelevant: certificates are renewed days before they expire.
package tlsreload

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"
)

// DefaultPollInterval is how often the files are checked when Options.PollInterval is zero.
const DefaultPollInterval = 2 * time.Second

// Options configures a Reloader.
type Options struct {
	// CertFiles and KeyFiles are the PEM files of the certificates and their keys, in pairs:
	// CertFiles[i] goes with KeyFiles[i]. At least one pair is required.
	CertFiles, KeyFiles []string
	// PollInterval is how often the files are checked for changes. If zero,
	// DefaultPollInterval.
	PollInterval time.Duration
	// Log receives a line for every certificate loaded and every one that failed to load. If
	// nil, nothing is logged.
	Log logrus.FieldLogger
}

// Reloader holds the current certificates and hands them to TLS handshakes. A pair whose new
// files fail to load keeps its previous certificate. It is safe for concurrent use.
type Reloader struct {
	pairs []*pair
	every time.Duration
	log   logrus.FieldLogger
	mu    sync.Mutex                         // serialises reloads
	certs atomic.Pointer[[]*tls.Certificate] // one per pair, in order
}

// pair is one certificate and key file, with what was last seen of them.
type pair struct {
	certFile, keyFile string
	seen              [2]os.FileInfo // at the last load attempt
	cert              *tls.Certificate
}

// New loads every pair. It fails when a pair does not load: a server should not start with
// a certificate missing.
func New(opts Options) (*Reloader, error) {
	if len(opts.CertFiles) == 0 || len(opts.CertFiles) != len(opts.KeyFiles) {
		return nil, fmt.Errorf("tlsreload: %d certificate files and %d key files, want the same number, at least one",
			len(opts.CertFiles), len(opts.KeyFiles))
	}
	r := &Reloader{every: opts.PollInterval, log: opts.Log}
	if r.every <= 0 {
		r.every = DefaultPollInterval
	}
	if r.log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		r.log = l
	}
	var errs []error
	for i := range opts.CertFiles {
		p := &pair{certFile: opts.CertFiles[i], keyFile: opts.KeyFiles[i]}
		p.seen = stat(p)
		cert, err := tls.LoadX509KeyPair(p.certFile, p.keyFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("loading %s and %s: %w", p.certFile, p.keyFile, err))
			continue
		}
		p.cert = &cert
		r.pairs = append(r.pairs, p)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	r.publish()
	return r, nil
}

// GetCertificate returns the first certificate that suits the client's hello (its server name,
// signature schemes and curves), or the first certificate when none does. It is meant for
// tls.Config.GetCertificate.
func (r *Reloader) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	certs := *r.certs.Load()
	for _, c := range certs {
		if hello.SupportsCertificate(c) == nil {
			return c, nil
		}
	}
	return certs[0], nil
}

// Reload re-reads every pair now, changed or not, as on SIGHUP. It returns the errors of the
// pairs that failed to load; those keep their previous certificate.
func (r *Reloader) Reload() error { return r.check(true) }

// Run checks the files every PollInterval and reloads the pairs that changed, until ctx is done.
// It returns nil.
func (r *Reloader) Run(ctx context.Context) error {
	tick := time.NewTicker(r.every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			r.check(false) //nolint:errcheck // check logs the failures
		}
	}
}

// check reloads every pair, or with force unset only the pairs whose files changed since the
// last attempt. A pair that fails is retried once its files change again.
func (r *Reloader) check(force bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	changed := false
	for _, p := range r.pairs {
		now := stat(p)
		if !force && sameFiles(p.seen, now) {
			continue
		}
		p.seen = now
		cert, err := tls.LoadX509KeyPair(p.certFile, p.keyFile)
		if err != nil {
			err = fmt.Errorf("loading %s and %s: %w", p.certFile, p.keyFile, err)
			r.log.WithError(err).Error("TLS certificate not reloaded, keeping the previous one")
			errs = append(errs, err)
			continue
		}
		p.cert = &cert
		changed = true
		r.log.WithField("path", p.certFile).Info("TLS certificate loaded")
	}
	if changed {
		r.publish()
	}
	return errors.Join(errs...)
}

func (r *Reloader) publish() {
	certs := make([]*tls.Certificate, len(r.pairs))
	for i, p := range r.pairs {
		certs[i] = p.cert
	}
	r.certs.Store(&certs)
}

// stat returns what can be seen of a pair's files without reading them; nil for a file that
// cannot be seen.
func stat(p *pair) [2]os.FileInfo {
	var fi [2]os.FileInfo
	for i, name := range []string{p.certFile, p.keyFile} {
		fi[i], _ = os.Stat(name) // follows symlinks, so a swapped link target shows as a change
	}
	return fi
}

// sameFiles reports whether both files look unchanged: the same file, size and time.
func sameFiles(a, b [2]os.FileInfo) bool {
	for i := range a {
		switch {
		case a[i] == nil || b[i] == nil:
			if a[i] != b[i] {
				return false
			}
		case !os.SameFile(a[i], b[i]) || a[i].Size() != b[i].Size() || !a[i].ModTime().Equal(b[i].ModTime()):
			return false
		}
	}
	return true
}
