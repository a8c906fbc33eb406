package secrets

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// HostsSuffix is appended to a secret's name to name its hosts file, which lists where the
// secret may be sent (see Bindings).
const HostsSuffix = ".hosts"

// ErrUnboundDestination is wrapped by the errors that refuse to send a secret somewhere.
var ErrUnboundDestination = errors.New("secret may not be sent to this destination")

// BindingError says why a secret may not be sent to a destination. It names the secret (its
// path) and the destination, never the secret's value.
type BindingError struct {
	Secret      string
	Destination string // host:port; "" when no destination is allowed at all
	Reason      string
}

func (e *BindingError) Error() string {
	if e.Destination == "" {
		return "secret " + strconv.Quote(e.Secret) + ": " + e.Reason
	}
	return "secret " + strconv.Quote(e.Secret) + " may not be sent to " + e.Destination + ": " + e.Reason
}

// Unwrap returns ErrUnboundDestination.
func (e *BindingError) Unwrap() error { return ErrUnboundDestination }

// Getter reads secrets by name; *Store implements it.
type Getter interface {
	Get(name string) (Secret, error)
}

// BindingOptions configures Bindings.
type BindingOptions struct {
	// Flags are -credentials-bind values: "SECRET=HOST[,HOST...]". A secret named twice is
	// allowed the hosts of both.
	Flags []string
	// Hosts reads the hosts files: the secret's name with HostsSuffix. If nil, there are none.
	Hosts Getter
	// Require refuses every destination to a secret that neither a flag nor a hosts file binds.
	Require bool
}

// Bindings decide where each secret may be sent. A secret may be bound by -credentials-bind
// and by its hosts file, read through the secrets store so that it is rotated as secrets are;
// when both exist, a destination must be allowed by both. A secret bound by neither may go
// anywhere unless Require is set. A hosts file holds one HostPattern a line; blank lines and
// everything from a '#' on are ignored; a file of comments alone allows nothing. A hosts file
// that does not parse allows nothing until it is fixed. Bindings are safe for concurrent use.
type Bindings struct {
	flags   map[string][]HostPattern
	hosts   Getter
	require bool

	// files holds, per secret asked about, the name of its hosts file and the version of that
	// file parsed last, so that the check on each attempt builds no name and parses nothing
	// unless the file changed.
	mu    sync.RWMutex
	files map[string]*hostsEntry
}

// hostsEntry is a secret's hosts file: its name and the version parsed last.
type hostsEntry struct {
	name string
	cur  atomic.Pointer[hostsFile]
}

type hostsFile struct {
	raw  []byte // the content it was parsed from
	pats []HostPattern
	err  error
}

// hostsEntry returns secret's entry, making it on first use.
func (b *Bindings) hostsEntry(secret string) *hostsEntry {
	b.mu.RLock()
	e := b.files[secret]
	b.mu.RUnlock()
	if e != nil {
		return e
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if e = b.files[secret]; e == nil {
		if b.files == nil {
			b.files = make(map[string]*hostsEntry)
		}
		e = &hostsEntry{name: secret + HostsSuffix}
		b.files[secret] = e
	}
	return e
}

// NewBindings parses o.Flags. Errors name the flag and the value.
func NewBindings(o BindingOptions) (*Bindings, error) {
	b := &Bindings{flags: make(map[string][]HostPattern), hosts: o.Hosts, require: o.Require}
	var errs []error
	for _, v := range o.Flags {
		name, pats, err := ParseBindFlag(v)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		b.flags[name] = append(b.flags[name], pats...)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return b, nil
}

// ParseBindFlag parses one -credentials-bind value, "SECRET=HOST[,HOST...]". The secret's name
// is everything before the last '=', which no host pattern holds.
func ParseBindFlag(v string) (string, []HostPattern, error) {
	i := strings.LastIndexByte(v, '=')
	if i < 0 {
		return "", nil, fmt.Errorf("-credentials-bind %q: want SECRET=HOST[,HOST...]", v)
	}
	name, list := v[:i], v[i+1:]
	if name == "" {
		return "", nil, fmt.Errorf("-credentials-bind %q: no secret before '='", v)
	}
	var pats []HostPattern
	var errs []error
	for h := range strings.SplitSeq(list, ",") {
		p, err := ParseHostPattern(strings.TrimSpace(h))
		if err != nil {
			errs = append(errs, fmt.Errorf("-credentials-bind %q: %w", v, err))
			continue
		}
		pats = append(pats, p)
	}
	return name, pats, errors.Join(errs...)
}

// ParseHostsFile parses the content of a hosts file; errors name the file and the line.
func ParseHostsFile(file string, data []byte) ([]HostPattern, error) {
	pats := []HostPattern{}
	var errs []error
	for n, line := range strings.Split(string(data), "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		p, err := ParseHostPattern(line)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %w", file, n+1, err))
			continue
		}
		pats = append(pats, p)
	}
	return pats, errors.Join(errs...)
}

// fileBinding returns the patterns of secret's hosts file; ok is false when it has none.
func (b *Bindings) fileBinding(secret string) (pats []HostPattern, ok bool, err error) {
	if b.hosts == nil {
		return nil, false, nil
	}
	entry := b.hostsEntry(secret)
	file := entry.name
	var v Secret
	if l, ok := b.hosts.(interface{ Lookup(string) (Secret, bool) }); ok {
		if v, ok = l.Lookup(file); !ok {
			return nil, false, nil
		}
	} else {
		v, err = b.hosts.Get(file)
		if errors.Is(err, ErrNotFound) {
			return nil, false, nil
		}
		if err != nil {
			return nil, true, err
		}
	}
	if hf := entry.cur.Load(); hf != nil && bytes.Equal(hf.raw, v) {
		return hf.pats, true, hf.err
	}
	pats, err = ParseHostsFile(file, v)
	entry.cur.Store(&hostsFile{raw: bytes.Clone(v), pats: pats, err: err})
	return pats, true, err
}

// CheckSecret reports whether secret can be sent anywhere at all: its hosts file, if any,
// parses, and when bindings are required, it has one.
func (b *Bindings) CheckSecret(secret string) error {
	_, inFile, err := b.fileBinding(secret)
	if err != nil {
		return &BindingError{Secret: secret, Reason: err.Error()}
	}
	if _, inFlags := b.flags[secret]; b.require && !inFlags && !inFile {
		return &BindingError{Secret: secret,
			Reason: "no -credentials-bind flag and no " + secret + HostsSuffix + " file binds it, and -credentials-require-binding is set"}
	}
	return nil
}

// AllowDestination returns nil when secret may be sent to host (a URL's Host) by scheme,
// else a *BindingError.
func (b *Bindings) AllowDestination(secret, scheme, host string) error {
	d, err := ParseDestination(scheme, host)
	if err != nil {
		return &BindingError{Secret: secret, Destination: strconv.Quote(host), Reason: err.Error()}
	}
	flagPats, inFlags := b.flags[secret]
	filePats, inFile, err := b.fileBinding(secret)
	if err != nil {
		return &BindingError{Secret: secret, Destination: d.String(), Reason: err.Error()}
	}
	switch {
	case inFlags && !matchAny(flagPats, d):
		return &BindingError{Secret: secret, Destination: d.String(), Reason: "not allowed by -credentials-bind"}
	case inFile && !matchAny(filePats, d):
		return &BindingError{Secret: secret, Destination: d.String(), Reason: "not allowed by " + secret + HostsSuffix}
	case !inFlags && !inFile && b.require:
		return &BindingError{Secret: secret, Destination: d.String(), Reason: "the secret is bound to no host, and -credentials-require-binding is set"}
	}
	return nil
}

func matchAny(pats []HostPattern, d Destination) bool {
	for _, p := range pats {
		if p.Match(d) {
			return true
		}
	}
	return false
}
