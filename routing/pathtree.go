package routing

import (
	"cmp"
	"slices"
	"strings"
)

// maxStaticList is the number of static children a path tree node searches one by one; a
// node with more keeps them in a map.
const maxStaticList = 8

// pathNode is one position in the path tree: the routes with Path or PathSubtree, filed by
// the segments of their patterns. A depth-first search tries, at each node, the static child
// named by the next request segment, then the :param child, then the *rest bucket, or the
// bucket of routes whose pattern ends here when the path does.
//
// As in Skipper, a PathSubtree("/a") is filed in three buckets, which it shares with the Path
// routes of the same shape: "/a" (end of node a), "/a/" (end of the "" child of node a) and
// "/a/**" (catch-all of node a, with Path("/a/*rest")). The routes of a bucket are ordered by
// compareInBucket, so there the route with more predicates wins whether it is a Path or a
// PathSubtree: PathSubtree("/a") && Method("PUT") beats Path("/a") for PUT /a.
type pathNode struct {
	lit       string               // this node's static segment, as a child
	statics   []*pathNode          // static children, when there are few
	staticMap map[string]*pathNode // static children, when there are many
	param     *pathNode
	catchAll  *bucket // Path("/a/*rest"), PathSubtree("/a") below /a/
	end       *bucket // Path("/a"), PathSubtree("/a") on /a itself
}

// buildPathTree files routes, which must be in precedence order, by their path patterns.
func buildPathTree(routes []*Route, minIndexed int) *pathNode {
	root := &pathNode{}
	lists := map[*bucket][]*Route{}
	var order []*bucket // buckets in creation order, so that building them is deterministic
	for _, rt := range routes {
		for _, b := range root.insert(rt.m.path.segs) {
			if _, ok := lists[b]; !ok {
				order = append(order, b)
			}
			lists[b] = append(lists[b], rt)
		}
	}
	for _, b := range order {
		slices.SortStableFunc(lists[b], compareInBucket)
		b.build(lists[b], minIndexed)
	}
	root.finish()
	return root
}

// compareInBucket orders the routes of one bucket, whose path patterns all match the same
// request paths: more predicates first (Weight(n) counting n), then a Path before a
// PathSubtree, then the lower id.
func compareInBucket(a, b *Route) int {
	if c := cmp.Compare(b.m.weight, a.m.weight); c != 0 {
		return c
	}
	if as, bs := a.m.path.subtree, b.m.path.subtree; as != bs {
		if bs {
			return -1
		}
		return 1
	}
	return strings.Compare(a.ID, b.ID)
}

// insert walks to (creating as needed) the buckets for a pattern's segments: one for a Path,
// three for a PathSubtree.
func (n *pathNode) insert(segs []pathSeg) []*bucket {
	for _, s := range segs {
		switch s.kind {
		case segStatic:
			n = n.staticChild(s.lit)
		case segParam:
			if n.param == nil {
				n.param = &pathNode{}
			}
			n = n.param
		case segCatchAll:
			return []*bucket{ensureBucket(&n.catchAll)}
		case segEnd:
			return []*bucket{ensureBucket(&n.end)}
		case segSubtree:
			return []*bucket{
				ensureBucket(&n.end),
				ensureBucket(&n.staticChild("").end),
				ensureBucket(&n.catchAll),
			}
		}
	}
	panic("routing: path pattern without a terminal segment") // compilePath always adds one
}

func ensureBucket(b **bucket) *bucket {
	if *b == nil {
		*b = &bucket{}
	}
	return *b
}

// staticChild returns the child for a static segment, creating it. While the tree is built,
// all static children live in the map.
func (n *pathNode) staticChild(lit string) *pathNode {
	if c := n.staticMap[lit]; c != nil {
		return c
	}
	if n.staticMap == nil {
		n.staticMap = map[string]*pathNode{}
	}
	c := &pathNode{lit: lit}
	n.staticMap[lit] = c
	return c
}

// finish recursively moves small sets of static children from their map into a list, which
// is faster to search and smaller.
func (n *pathNode) finish() {
	for _, c := range n.staticMap {
		c.finish()
	}
	if n.param != nil {
		n.param.finish()
	}
	if len(n.staticMap) <= maxStaticList {
		for _, c := range n.staticMap {
			n.statics = append(n.statics, c)
		}
		n.staticMap = nil
	}
}

func (n *pathNode) static(seg string) *pathNode {
	if n.staticMap != nil {
		return n.staticMap[seg]
	}
	for _, c := range n.statics {
		if c.lit == seg {
			return c
		}
	}
	return nil
}

// lookup returns the first route in precedence order below n that matches the request. rest is
// what follows the "/" after the segments consumed so far, and done says that the path is used
// up, as in pathPattern.match.
func (n *pathNode) lookup(in *matchInput, rest string, done bool) *Route {
	if !done {
		seg, next, nextDone := rest, "", true
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			seg, next, nextDone = rest[:i], rest[i+1:], false
		}
		if c := n.static(seg); c != nil {
			if rt := c.lookup(in, next, nextDone); rt != nil {
				return rt
			}
		}
		if n.param != nil && seg != "" {
			if rt := n.param.lookup(in, next, nextDone); rt != nil {
				return rt
			}
		}
		if n.catchAll != nil && rest != "" {
			return n.catchAll.lookup(in)
		}
		return nil
	}
	if n.end != nil {
		return n.end.lookup(in)
	}
	return nil
}
