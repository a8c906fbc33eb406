package proxy

import (
	"hash/fnv"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"sync/atomic"
	"time"
	"weak"

	"github.com/skipper-egress/skipper/routing"
)

// Load balancer tuning.
const (
	// deadFor is how long an endpoint that refused a connection is skipped while others are up.
	deadFor = 10 * time.Second
	// ringReplicas is the number of points each endpoint has on a consistentHash ring: enough to
	// spread keys evenly over a handful of endpoints.
	ringReplicas = 100
)

// endpoint is one address of a load-balanced backend, with the state its balancer keeps.
type endpoint struct {
	url      *url.URL
	deadAt   atomic.Int64 // unix nanos of the last refused connection; 0 if none
	inFlight atomic.Int64 // requests sent and not yet finished
}

// up reports whether e has not refused a connection within deadFor of now.
func (e *endpoint) up(now int64) bool {
	d := e.deadAt.Load()
	return d == 0 || now-d >= int64(deadFor)
}

// ringPoint is one virtual node of a consistentHash ring.
type ringPoint struct {
	hash uint64
	ep   int
}

// balancer chooses an endpoint of one BackendLB route per attempt. It is safe for concurrent
// use and owns no goroutine.
type balancer struct {
	algorithm string
	endpoints []*endpoint
	next      atomic.Uint64 // roundRobin
	ring      []ringPoint   // consistentHash, sorted by hash
}

func newBalancer(b *routing.Backend) *balancer {
	lb := &balancer{algorithm: b.Algorithm, endpoints: make([]*endpoint, len(b.Endpoints))}
	for i, u := range b.Endpoints {
		lb.endpoints[i] = &endpoint{url: u}
	}
	if lb.algorithm == routing.AlgorithmConsistentHash {
		lb.ring = make([]ringPoint, 0, len(b.Endpoints)*ringReplicas)
		for i, u := range b.Endpoints {
			for j := range ringReplicas {
				lb.ring = append(lb.ring, ringPoint{hash: hashKey(u.Host + "#" + strconv.Itoa(j)), ep: i})
			}
		}
		slices.SortFunc(lb.ring, func(a, b ringPoint) int {
			switch {
			case a.hash < b.hash:
				return -1
			case a.hash > b.hash:
				return 1
			}
			return a.ep - b.ep
		})
	}
	return lb
}

// hashKey is FNV-1a, stable across restarts so that a key keeps its endpoint when the proxy
// is redeployed with the same endpoints, followed by splitmix64's finalizer: FNV alone spreads
// short, similar keys such as addresses poorly over the ring.
func hashKey(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	x := h.Sum64()
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// usable reports whether endpoint i may be chosen: not tried yet by this request, and up unless
// anyUp says that no untried endpoint is.
func (lb *balancer) usable(i int, tried []bool, now int64, anyUp bool) bool {
	return !tried[i] && (!anyUp || lb.endpoints[i].up(now))
}

// pick returns the index of the endpoint for the next attempt of a request, or -1 when every endpoint
// has been tried. Endpoints that refused a connection recently are skipped while an untried one
// is up; when none is, they are tried anyway. key is the request's consistentHash key.
func (lb *balancer) pick(key string, tried []bool, now int64) int {
	return lb.pickBounded(key, 0, tried, now)
}

// pickBounded is pick with the balance factor of a consistentHash route (0 for none).
func (lb *balancer) pickBounded(key string, factor float64, tried []bool, now int64) int {
	n := len(lb.endpoints)
	anyUp, anyLeft := false, false
	for i, e := range lb.endpoints {
		if !tried[i] {
			anyLeft = true
			if e.up(now) {
				anyUp = true
				break
			}
		}
	}
	if !anyLeft {
		return -1
	}
	// from returns the first usable endpoint at or after start, wrapping around.
	from := func(start int) int {
		for k := range n {
			if i := (start + k) % n; lb.usable(i, tried, now, anyUp) {
				return i
			}
		}
		return -1
	}
	switch lb.algorithm {
	case routing.AlgorithmRandom:
		return from(rand.IntN(n))
	case routing.AlgorithmPowerOfRandomNChoices:
		a, b := from(rand.IntN(n)), from(rand.IntN(n))
		if lb.endpoints[b].inFlight.Load() < lb.endpoints[a].inFlight.Load() {
			return b
		}
		return a
	case routing.AlgorithmConsistentHash:
		return lb.onRing(hashKey(key), factor, tried, now, anyUp)
	default: // roundRobin
		// Skipping takes the next turn rather than the next endpoint, so that the turns of a
		// dead endpoint are shared by all the others instead of going to its neighbour.
		for range n {
			if i := int((lb.next.Add(1) - 1) % uint64(n)); lb.usable(i, tried, now, anyUp) {
				return i
			}
		}
		return from(0)
	}
}

// onRing returns the first usable endpoint clockwise from h on the ring. With a balance factor
// (consistent hashing with bounded loads, as Skipper's consistentHashBalanceFactor), it is the
// first usable endpoint whose requests in flight are at most factor times the average, the new
// request counted in; when none is, the first usable one.
func (lb *balancer) onRing(h uint64, factor float64, tried []bool, now int64, anyUp bool) int {
	start, _ := slices.BinarySearchFunc(lb.ring, h, func(p ringPoint, h uint64) int {
		switch {
		case p.hash < h:
			return -1
		case p.hash > h:
			return 1
		}
		return 0
	})
	target := -1.0
	if factor > 0 {
		sum := 1.0
		for _, e := range lb.endpoints {
			sum += float64(e.inFlight.Load())
		}
		target = sum / float64(len(lb.endpoints)) * factor
	}
	first := -1
	for k := range lb.ring {
		i := lb.ring[(start+k)%len(lb.ring)].ep
		if !lb.usable(i, tried, now, anyUp) {
			continue
		}
		if target < 0 || float64(lb.endpoints[i].inFlight.Load()) <= target {
			return i
		}
		if first < 0 {
			first = i
		}
	}
	return first
}

// hashKeyOf returns the consistentHash key of out on route: that of the route's last
// consistentHashKey filter, or else the client's address without its port.
func hashKeyOf(route *routing.Route, out *http.Request) string {
	if hk := route.Settings.HashKey; hk != nil {
		if key, ok := hk.HashKey(out); ok {
			return key
		}
	}
	if host, _, err := net.SplitHostPort(out.RemoteAddr); err == nil {
		return host
	}
	return out.RemoteAddr
}

// balancerFor returns the balancer of route, creating it on first use. Balancers are keyed by
// a weak pointer to the route, so that the routes of replaced tables can be collected; a cleanup
// then drops their balancer too.
func (p *Proxy) balancerFor(route *routing.Route) *balancer {
	key := weak.Make(route)
	if v, ok := p.balancers.Load(key); ok {
		return v.(*balancer)
	}
	v, loaded := p.balancers.LoadOrStore(key, newBalancer(&route.Backend))
	if !loaded {
		runtime.AddCleanup(route, func(k weak.Pointer[routing.Route]) { p.balancers.Delete(k) }, key)
	}
	return v.(*balancer)
}

// forwardLB sends out to an endpoint of route's load balancer. A request that failed to
// connect, so that nothing of it was sent, is retried on another endpoint, once per endpoint,
// provided its body can be sent again: a request with a body that cannot be replayed is never
// retried. aimHost tells whether the Host header follows the chosen endpoint.
func (p *Proxy) forwardLB(w *responseRecorder, r, out *http.Request, route *routing.Route, proto string, aimHost bool) {
	out, release, ok := p.prepareUpgrade(out, proto)
	if !ok {
		p.fail(w, r, route, errTunnelLimit)
		return
	}
	defer release() // after the tunnel, if the backend switched protocols
	lb := p.balancerFor(route)
	tried := make([]bool, len(lb.endpoints))
	key := ""
	if lb.algorithm == routing.AlgorithmConsistentHash {
		key = hashKeyOf(route, out)
	}
	for {
		now := p.now().UnixNano()
		i := lb.pickBounded(key, route.Settings.BalanceFactor, tried, now)
		tried[i] = true
		ep := lb.endpoints[i]
		out.URL.Scheme, out.URL.Host = ep.url.Scheme, ep.url.Host
		if aimHost {
			out.Host = hostHeader(ep.url.Scheme, ep.url.Host)
		}
		ep.inFlight.Add(1)
		res, cancel, err := p.send(r, out, route, p.transport)
		if err != nil && isDialError(err) {
			ep.deadAt.Store(p.now().UnixNano())
			// Asked after the attempt: its egress filters may have made the body replayable.
			replayable := out.Body == nil || out.GetBody != nil
			if replayable && r.Context().Err() == nil && slices.Contains(tried, false) {
				cancel()
				ep.inFlight.Add(-1)
				if out.GetBody != nil {
					body, gerr := out.GetBody()
					if gerr != nil {
						p.fail(w, r, route, err)
						return
					}
					out.Body = body
				}
				p.log.WithField(fieldRoute, route.Name()).WithField(fieldBackend, ep.url.Host).
					Debug("endpoint refused the connection, retrying on another")
				continue
			}
		}
		defer func() { // also when respond aborts a half-sent response
			cancel()
			ep.inFlight.Add(-1)
		}()
		p.respond(w, r, out, route, proto, res, err)
		return
	}
}
