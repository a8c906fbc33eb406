package proxy

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"

	"github.com/sirupsen/logrus"

	"github.com/skipper-egress/skipper/internal/forward"
	"github.com/skipper-egress/skipper/internal/mitm"
)

// errForwarderStopped refuses a tunnel asked for after the Forwarder's Run has ended.
var errForwarderStopped = errors.New("forward proxy is shutting down")

// Forwarder is the forward-proxy half of a Proxy: the SSRF guard, the transport of <dynamic>
// routes, which dials through the guard and pools its connections, and the open tunnels. It
// has a pool and tunnels to end, so whoever builds it runs it: main builds it with
// NewForwarder, hands it to New in Options.Forward and runs Run beside the server. It is safe
// for concurrent use.
type Forwarder struct {
	guard       *forward.Guard
	tunnels     *forward.Tunnels
	ca          *mitm.CA
	transport   *Transport // dials through guard
	opts        forward.TunnelOptions
	auth        func() ([]byte, error)
	authFile    string                     // names the users file in errors
	parsedUsers atomic.Pointer[proxyUsers] // the users file as last parsed
	log         logrus.FieldLogger

	stop     context.Context // done once Run's context is: every tunnel ends
	stopNow  context.CancelFunc
	mu       sync.Mutex
	stopped  bool           // under mu; no tunnel opens once set
	inFlight sync.WaitGroup // tunnels open; Add only under mu while !stopped
}

// NewForwarder returns a Forwarder configured by o. It fails on a negative tunnel timeout.
// Nothing runs until Run.
func NewForwarder(o ForwardOptions) (*Forwarder, error) {
	g := o.Guard
	if g == nil {
		var err error
		if g, err = forward.NewGuard(forward.GuardOptions{}); err != nil {
			return nil, err
		}
	}
	tunnels, err := forward.NewTunnels(o.Tunnels)
	if err != nil {
		return nil, err
	}
	log := o.Log
	if log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		log = l
	}
	// The destinations here are the clients' choice: the global client certificate
	// (-client-tls-cert) goes to the backends the routes name, never to these; a route that
	// wants one presented here names it (tlsClientCertFromSecrets).
	topts := o.Transport
	topts.ClientCert = nil
	f := &Forwarder{
		guard: g, tunnels: tunnels, ca: o.CA, opts: o.Tunnels, auth: o.ProxyAuth, authFile: o.ProxyAuthFile, log: log,
		transport: newTransport(topts, g.DialContext),
	}
	f.stop, f.stopNow = context.WithCancel(context.Background())
	return f, nil
}

// Run closes the idle connections of the <dynamic> routes' transport every
// Transport.CloseIdleConnsPeriod, as the backend transport's Run does, until ctx is done.
// Then it ends every open tunnel, blind or intercepted, waits until their handlers have
// returned, closes the idle connections and returns nil. Tunnels asked for afterwards are
// refused with 503. Call it once.
func (f *Forwarder) Run(ctx context.Context) error {
	err := f.transport.Run(ctx)
	f.mu.Lock()
	f.stopped = true
	f.mu.Unlock()
	if n := f.tunnels.Open(); n > 0 {
		f.log.Infof("Closing %d open tunnels", n)
	}
	f.stopNow()
	f.inFlight.Wait()
	f.transport.CloseIdleConnections()
	return err
}

// openTunnel takes a slot for a tunnel asked for by a request with context ctx. It returns the
// context to run the tunnel in, done when ctx is or when Run ends, and release, to call once
// the tunnel has closed. It fails with errTunnelLimit when the limit of open tunnels is reached
// and with errForwarderStopped once Run has ended.
func (f *Forwarder) openTunnel(ctx context.Context) (context.Context, func(), error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return nil, nil, errForwarderStopped
	}
	release, ok := f.tunnels.Acquire()
	if !ok {
		return nil, nil, errTunnelLimit
	}
	f.inFlight.Add(1)
	ctx, cancel := context.WithCancel(ctx)
	stopped := context.AfterFunc(f.stop, cancel)
	return ctx, sync.OnceFunc(func() {
		stopped()
		cancel()
		release()
		f.inFlight.Done()
	}), nil
}
