package routing

import "slices"

// defaultMinIndexed is the number of routes from which a bucket gets a host index; smaller
// buckets are scanned, which is as fast for a handful of routes and takes no memory.
const defaultMinIndexed = 8

// bucket holds the routes of one path pattern (a leaf of the path tree), or all routes
// without a path. Its routes are in precedence order, so the first one that matches wins.
type bucket struct {
	routes []*Route
	idx    *hostIndex // nil: try the routes in order
}

// hostIndex finds a bucket's candidate routes for a request host. Routes are numbered by their
// position in the bucket, and every list is in ascending order.
//
//   - byKey files routes whose Host or HostAny names a few exact hosts, under the hostKey of
//     each (the host without its port), so one map lookup finds all routes that can match.
//   - subs files routes whose Host regexp is open-ended under one literal every match must
//     contain (one per alternative); a lookup tries each substring of the host whose length
//     is in subLens, or scans subAll when there are far fewer routes than substrings.
//   - other holds routes that do not restrict the host; they are candidates for every request.
//
// find merges the byKey list with other in order, stopping at the first match, then tries
// only those subs candidates that come before it.
type hostIndex struct {
	byKey   map[string][]int32
	other   []int32
	subs    map[string][]int32
	subLens []int
	subAll  []int32
}

// build fills the bucket with routes, which are in precedence order, and indexes them when
// there are at least minIndexed. Routes with False() are left out: they never match.
func (b *bucket) build(routes []*Route, minIndexed int) {
	b.routes = make([]*Route, 0, len(routes))
	for _, rt := range routes {
		if !rt.m.never {
			b.routes = append(b.routes, rt)
		}
	}
	if len(b.routes) < minIndexed || len(b.routes) == 0 {
		return
	}
	x := &hostIndex{byKey: map[string][]int32{}, subs: map[string][]int32{}}
	freq := literalFrequencies(b.routes)
	for i, rt := range b.routes {
		pos := int32(i)
		switch m := rt.m; {
		case m.hostKeyed:
			for _, k := range m.hostKeys {
				x.byKey[k] = append(x.byKey[k], pos)
			}
		case m.hostLits() != nil:
			for _, alt := range m.hostLits() {
				lit := rarest(alt, freq)
				if l := x.subs[lit]; len(l) == 0 || l[len(l)-1] != pos {
					x.subs[lit] = append(l, pos)
				}
			}
			x.subAll = append(x.subAll, pos)
		default:
			x.other = append(x.other, pos)
		}
	}
	if len(x.byKey) == 0 && len(x.subs) == 0 {
		return // nothing restricts the host: the scan is the index
	}
	for lit := range x.subs {
		x.subLens = append(x.subLens, len(lit))
	}
	slices.Sort(x.subLens)
	x.subLens = slices.Compact(x.subLens)
	if len(x.subs) == 0 {
		x.subs = nil
	}
	b.idx = x
}

// literalFrequencies counts in how many routes each literal a hostLits alternative offers
// occurs, so that each route can be filed under its rarest literal.
func literalFrequencies(routes []*Route) map[string]int {
	freq := map[string]int{}
	for _, rt := range routes {
		if rt.m.hostKeyed {
			continue
		}
		for _, alt := range rt.m.hostLits() {
			for _, lit := range alt {
				freq[lit]++
			}
		}
	}
	return freq
}

// rarest returns the option that fewest routes share, the longest among equals, then the
// first.
func rarest(options []string, freq map[string]int) string {
	best := options[0]
	for _, o := range options[1:] {
		if freq[o] < freq[best] || freq[o] == freq[best] && len(o) > len(best) {
			best = o
		}
	}
	return best
}

// lookup returns the first route of the bucket that matches the request, or nil; the path
// pattern, if any, is known to match it.
func (b *bucket) lookup(in *matchInput) *Route {
	if b.idx == nil {
		for _, rt := range b.routes {
			if rt.m.matchNonPath(in) {
				return rt
			}
		}
		return nil
	}
	if i := b.idx.find(b.routes, in); i < len(b.routes) {
		return b.routes[i]
	}
	return nil
}

// find returns the position of the first route that matches r, or len(routes).
func (x *hostIndex) find(routes []*Route, in *matchInput) int {
	best := len(routes)
	keyed, other := x.byKey[hostKey(in.r.Host)], x.other
	for len(keyed) > 0 || len(other) > 0 {
		var i int32
		if len(other) == 0 || len(keyed) > 0 && keyed[0] < other[0] {
			i, keyed = keyed[0], keyed[1:]
		} else {
			i, other = other[0], other[1:]
		}
		if routes[i].m.matchNonPath(in) {
			best = int(i)
			break
		}
	}
	if x.subs != nil {
		best = x.findSubstring(routes, in, best)
	}
	return best
}

// findSubstring returns the position of the first route filed under a substring of r.Host
// that matches r, if it comes before best, or else best.
func (x *hostIndex) findSubstring(routes []*Route, in *matchInput, best int) int {
	h := in.r.Host
	windows := 0
	for _, l := range x.subLens {
		if l <= len(h) {
			windows += len(h) - l + 1
		}
	}
	// A map lookup is cheaper than checking a route, above all one with a regexp, so the
	// substrings win unless they are many more than the routes.
	if windows > 4*len(x.subAll) {
		for _, i := range x.subAll {
			if int(i) >= best {
				break
			}
			if routes[i].m.matchNonPath(in) {
				return int(i)
			}
		}
		return best
	}
	for _, l := range x.subLens {
		for s := 0; s+l <= len(h); s++ {
			for _, i := range x.subs[h[s:s+l]] {
				if int(i) >= best {
					break
				}
				if routes[i].m.matchNonPath(in) {
					best = int(i)
					break
				}
			}
		}
	}
	return best
}
