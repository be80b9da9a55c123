package auth

import (
	"strings"

	"github.com/portico-gw/portico/call"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
)

// Reserved reports the metadata names auth sets for backends beyond
// Portico's own x-portico-* names: the jwt providers' forward_claims. No
// client may send them, in any spelling, on either door; no request
// mapping may take them from one. Nil when the config forwards no claim.
func Reserved(c *configv1.Config) func(string) bool {
	names := map[string]bool{}
	for _, p := range c.GetAuth().GetProviders() {
		for _, md := range p.GetJwt().GetForwardClaims() {
			names[call.HeaderName(strings.ToLower(md))] = true
		}
	}
	if len(names) == 0 {
		return nil
	}
	return func(k string) bool { return names[call.HeaderName(k)] }
}
