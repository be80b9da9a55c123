package call

import (
	"context"
	"maps"
	"slices"
)

// Shadow returns a copy of c for a shadow copy of the call (mirror):
// the same request (its headers copied), peer, ID, identity, withheld
// credentials and policies' backend headers, so the copy reaches its
// backend exactly as the call reaches its own; but a refusal or a
// response header set on the copy (a guard's Retry-After) stays on the
// copy, never on the client's answer. Nil for nil.
func (c *Info) Shadow() *Info {
	if c == nil {
		return nil
	}
	out := *c
	if c.HTTP != nil {
		out.HTTP = c.HTTP.Clone(context.Background())
	}
	out.MD = c.MD.Copy()
	out.Refusal = ""
	out.respHeader = nil
	out.admit = nil
	out.backendSet = maps.Clone(c.backendSet)
	out.withheld = Withheld{Headers: slices.Clone(c.withheld.Headers), Queries: slices.Clone(c.withheld.Queries), Cookies: slices.Clone(c.withheld.Cookies)}
	return &out
}
