package router

import "github.com/portico-gw/portico/catalog/httprule"

// node is a trie node. The edge that leads to it consumed one path segment;
// the root consumed none. The trie is not generic: routes hold an index into
// the Router's values.
type node struct {
	// Literal children. Most nodes have at most one, kept inline to save a
	// map lookup; the rest go to lits.
	lit1Key string
	lit1    *node
	lits    map[string]*node

	star *node    // child for "*"
	end  terminal // routes whose segments end here
	deep terminal // routes whose last segment, "**", follows here
}

// terminal holds the routes that end at one place in the trie, by verb.
type terminal struct {
	plain *route            // the route without a verb
	verbs map[string]*route // routes with a verb, by verb
}

// get returns the route for verb ("" for none), or nil.
func (t *terminal) get(verb string) *route {
	if verb == "" {
		return t.plain
	}
	return t.verbs[verb] // a nil map reads as empty
}

// put stores rt for its template's verb unless a route is there already, in
// which case it returns that route.
func (t *terminal) put(rt *route) (old *route) {
	verb := rt.tpl.Verb
	if old = t.get(verb); old != nil {
		return old
	}
	if verb == "" {
		t.plain = rt
		return nil
	}
	if t.verbs == nil {
		t.verbs = make(map[string]*route)
	}
	t.verbs[verb] = rt
	return nil
}

// literal returns the child for the literal segment seg, or nil.
func (n *node) literal(seg string) *node {
	if n.lit1Key == seg && n.lit1 != nil {
		return n.lit1
	}
	return n.lits[seg] // a nil map reads as empty
}

// insert adds rt below n. When a route with the same shape is already there,
// it leaves the trie unchanged and returns that route.
func (n *node) insert(rt *route) (old *route) {
	for _, seg := range rt.tpl.Segments {
		switch seg.Kind {
		case httprule.Literal:
			c := n.literal(seg.Literal)
			if c == nil {
				c = &node{}
				if n.lit1 == nil {
					n.lit1Key, n.lit1 = seg.Literal, c
				} else {
					if n.lits == nil {
						n.lits = make(map[string]*node)
					}
					n.lits[seg.Literal] = c
				}
			}
			n = c
		case httprule.Wildcard:
			if n.star == nil {
				n.star = &node{}
			}
			n = n.star
		case httprule.DeepWildcard:
			// newRoute checked that "**" is the last segment.
			return n.deep.put(rt)
		}
	}
	return n.end.put(rt)
}

// match returns the best route below n for rest, the unmatched part of the
// path: "" or "/seg/seg...", with no empty segment. Only routes whose verb is
// verb ("" for none) are considered.
//
// Each trie node is visited at most once per call, since the depth of a node
// fixes the path segment it is compared with.
func (n *node) match(rest, verb string) *route {
	if rest == "" {
		if rt := n.end.get(verb); rt != nil {
			return rt
		}
		// "**" matching zero segments. The root never gets here: Lookup
		// passes a path with at least one segment, which is why "**" as
		// a template's first segment matches one or more.
		return n.deep.get(verb)
	}
	end := segmentEnd(rest, 1)
	seg, next := rest[1:end], rest[end:]
	if c := n.literal(seg); c != nil {
		if rt := c.match(next, verb); rt != nil {
			return rt
		}
	}
	if n.star != nil {
		if rt := n.star.match(next, verb); rt != nil {
			return rt
		}
	}
	return n.deep.get(verb)
}
