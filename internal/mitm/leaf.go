package mitm

import (
	"container/list"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// DefaultCacheSize is the number of leaf certificates a CA keeps when Options.CacheSize is 0.
	DefaultCacheSize = 1024
	// leafValidity is how long a minted leaf is valid, counted from the moment it is minted.
	leafValidity = 24 * time.Hour
	// leafRenewal is how long before a cached leaf's NotAfter the CA mints a new one, so that
	// no client is handed a certificate about to expire.
	leafRenewal = 12 * time.Hour
)

// ErrInvalidHost is returned (wrapped) for a host no certificate can be minted for: empty, too
// long, holding characters outside a DNS name, a wildcard, or an IP address with a zone.
var ErrInvalidHost = errors.New("invalid host for a certificate")

// Options configures a CA.
type Options struct {
	// CacheSize bounds the number of leaf certificates kept (least recently used goes first).
	// Zero means DefaultCacheSize.
	CacheSize int
	// Now returns the current time. If nil, time.Now is used.
	Now func() time.Time
}

// CA mints leaf certificates signed by a local certificate authority and caches them. All leaves
// of one CA share one P-256 key made when the CA is built and never written anywhere. A CA is
// safe for concurrent use.
type CA struct {
	cert    *x509.Certificate
	signer  crypto.Signer
	leafKey *ecdsa.PrivateKey
	size    int
	now     func() time.Time
	minted  atomic.Int64 // leaves signed, for tests

	mu       sync.Mutex
	lru      *list.List               // of *cacheEntry, most recently used first
	byHost   map[string]*list.Element // into lru
	inflight map[string]*mintCall
}

// cacheEntry is one cached leaf.
type cacheEntry struct {
	host string
	cert *tls.Certificate
}

// mintCall is a mint in progress; callers for the same host wait on done.
type mintCall struct {
	done chan struct{}
	cert *tls.Certificate
	err  error
}

// NewCA returns a CA from a PEM certificate and key. The certificate must be a CA allowed to
// sign certificates and valid now.
func NewCA(certPEM, keyPEM []byte, o Options) (*CA, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.CacheSize <= 0 {
		o.CacheSize = DefaultCacheSize
	}
	cert, signer, err := parseCA(certPEM, keyPEM, o.Now())
	if err != nil {
		return nil, err
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating leaf key: %w", err)
	}
	return &CA{
		cert:     cert,
		signer:   signer,
		leafKey:  leafKey,
		size:     o.CacheSize,
		now:      o.Now,
		lru:      list.New(),
		byHost:   make(map[string]*list.Element),
		inflight: make(map[string]*mintCall),
	}, nil
}

// Cert returns the CA certificate, for a trust pool. The caller must not modify it.
func (ca *CA) Cert() *x509.Certificate { return ca.cert }

// Certificate returns a leaf certificate for host: a DNS name, or an IP address (with or without
// brackets) that gets an IP SAN. Host names are compared without case and trailing dot. A cached
// leaf is reused until it is within 12h of expiry; concurrent callers for the same host wait
// for one mint. Errors are not cached.
func (ca *CA) Certificate(host string) (*tls.Certificate, error) {
	key, ip, err := normalizeHost(host)
	if err != nil {
		return nil, err
	}
	now := ca.now()
	ca.mu.Lock()
	if el, ok := ca.byHost[key]; ok {
		e := el.Value.(*cacheEntry)
		if now.Before(e.cert.Leaf.NotAfter.Add(-leafRenewal)) {
			ca.lru.MoveToFront(el)
			ca.mu.Unlock()
			return e.cert, nil
		}
	}
	if call, ok := ca.inflight[key]; ok {
		ca.mu.Unlock()
		<-call.done
		return call.cert, call.err
	}
	call := &mintCall{done: make(chan struct{})}
	ca.inflight[key] = call
	ca.mu.Unlock()

	call.cert, call.err = ca.mint(key, ip, now)

	ca.mu.Lock()
	delete(ca.inflight, key)
	if call.err == nil {
		ca.store(key, call.cert)
	}
	ca.mu.Unlock()
	close(call.done)
	return call.cert, call.err
}

// store caches cert for host and evicts the least recently used leaves beyond the size. The
// caller holds ca.mu.
func (ca *CA) store(host string, cert *tls.Certificate) {
	if el, ok := ca.byHost[host]; ok {
		el.Value.(*cacheEntry).cert = cert
		ca.lru.MoveToFront(el)
		return
	}
	ca.byHost[host] = ca.lru.PushFront(&cacheEntry{host: host, cert: cert})
	for ca.lru.Len() > ca.size {
		oldest := ca.lru.Back()
		ca.lru.Remove(oldest)
		delete(ca.byHost, oldest.Value.(*cacheEntry).host)
	}
}

// cached returns the number of leaves in the cache.
func (ca *CA) cached() int {
	ca.mu.Lock()
	defer ca.mu.Unlock()
	return ca.lru.Len()
}

// mint signs a new leaf for host (an IP SAN when ip is valid, a DNS SAN otherwise), valid from
// a little before now for leafValidity but never past the CA's own expiry.
func (ca *CA) mint(host string, ip netip.Addr, now time.Time) (*tls.Certificate, error) {
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	notAfter := now.Add(leafValidity)
	if notAfter.After(ca.cert.NotAfter) {
		notAfter = ca.cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: host},
		NotBefore:             now.Add(-backdate),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	if ip.IsValid() {
		tmpl.IPAddresses = append(tmpl.IPAddresses, ip.AsSlice())
	} else {
		tmpl.DNSNames = []string{host}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, ca.leafKey.Public(), ca.signer)
	if err != nil {
		return nil, fmt.Errorf("minting certificate for %q: %w", host, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("minting certificate for %q: %w", host, err)
	}
	ca.minted.Add(1)
	// The chain holds only the leaf: clients that intercept through us trust the CA itself.
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: ca.leafKey, Leaf: leaf}, nil
}

// normalizeHost returns the cache key for host and, for an IP literal, its address. Names are
// lower-cased and lose a trailing dot; IPv4-mapped IPv6 addresses become IPv4.
func normalizeHost(host string) (string, netip.Addr, error) {
	h := strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if ip, err := netip.ParseAddr(h); err == nil {
		if ip.Zone() != "" {
			return "", netip.Addr{}, fmt.Errorf("%w: %q has a zone", ErrInvalidHost, host)
		}
		ip = ip.Unmap()
		return ip.String(), ip, nil
	}
	h = strings.ToLower(strings.TrimSuffix(host, "."))
	if !validDNSName(h) {
		return "", netip.Addr{}, fmt.Errorf("%w: %q", ErrInvalidHost, host)
	}
	return h, netip.Addr{}, nil
}

// validDNSName reports whether h is a lower-case host name: dot-separated labels of 1-63
// letters, digits, hyphens and underscores (seen in real names), 253 bytes at most, no wildcard.
func validDNSName(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

// TLSConfig returns a server configuration that presents a leaf for the name the client sends
// in SNI. A handshake without SNI fails: clients send none for IP addresses, so use ForHost
// when the host is known from the CONNECT request. Only HTTP/1.1 is offered over ALPN.
func (ca *CA) TLSConfig() *tls.Config {
	return ca.serverConfig(func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		if hello.ServerName == "" {
			return nil, errors.New("client sent no server name (sni)")
		}
		return ca.Certificate(hello.ServerName)
	})
}

// ForHost returns a server configuration that presents a leaf for host, the destination of a
// CONNECT request. A client that sends no SNI gets that leaf; one that sends an SNI naming a
// different host fails the handshake, since the route chosen for host must not serve another.
func (ca *CA) ForHost(host string) *tls.Config {
	return ca.serverConfig(func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		want, _, err := normalizeHost(host)
		if err != nil {
			return nil, err
		}
		if hello.ServerName != "" {
			got, _, err := normalizeHost(hello.ServerName)
			if err != nil {
				return nil, err
			}
			if got != want {
				return nil, fmt.Errorf("client asked for %q inside a tunnel to %q", hello.ServerName, host)
			}
		}
		return ca.Certificate(host)
	})
}

func (ca *CA) serverConfig(get func(*tls.ClientHelloInfo) (*tls.Certificate, error)) *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		NextProtos:     []string{"http/1.1"},
		GetCertificate: get,
	}
}
