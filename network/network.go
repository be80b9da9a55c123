// Package network decides where a call comes from and whether that
// address may call: the client address behind trusted proxies
// (X-Forwarded-For, Forwarded), and allow/deny lists of CIDRs.
package network

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/gaissmai/bart"
	"github.com/portico-gw/portico/config"
)

// Set is a set of CIDRs, looked up in time independent of its size (a
// compressed prefix trie: a deny list may hold thousands of entries).
type Set struct {
	t bart.Lite
	n int
}

// NewSet reads CIDRs or single addresses ("10.0.0.0/8", "192.0.2.7",
// "2001:db8::/32"). Problems are config errors at field[i].
func NewSet(field string, entries []string) (*Set, config.Errors) {
	s := &Set{}
	var errs config.Errors
	for i, e := range entries {
		p, err := parsePrefix(strings.TrimSpace(e))
		if err != nil {
			errs = append(errs, &config.Error{Field: fmt.Sprintf("%s[%d]", field, i), Message: err.Error()})
			continue
		}
		s.t.Insert(p)
		s.n++
	}
	return s, errs
}

func parsePrefix(e string) (netip.Prefix, error) {
	if strings.Contains(e, "/") {
		p, err := netip.ParsePrefix(e)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not a CIDR (e.g. 10.0.0.0/8, 2001:db8::/32)", e)
		}
		if p.Addr().Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q: a CIDR has no zone", e)
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(e)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%q is not an address or a CIDR", e)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Contains reports whether a is in the set.
func (s *Set) Contains(a netip.Addr) bool {
	if s == nil || s.n == 0 || !a.IsValid() {
		return false
	}
	return s.t.Contains(a.Unmap().WithZone(""))
}

// Len is the number of entries.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return s.n
}

// Rules are an allow list and a deny list: an address in deny is
// refused; when allow is not empty, an address outside it is too.
type Rules struct {
	allow, deny *Set
}

// NewRules reads the lists at field.allow and field.deny; nil when both
// are empty.
func NewRules(field string, allow, deny []string) (*Rules, config.Errors) {
	if len(allow) == 0 && len(deny) == 0 {
		return nil, nil
	}
	a, errs := NewSet(field+".allow", allow)
	d, derrs := NewSet(field+".deny", deny)
	errs = append(errs, derrs...)
	if len(errs) > 0 {
		return nil, errs
	}
	return &Rules{allow: a, deny: d}, nil
}

// Allowed reports whether a may call. An unknown address (invalid) is
// refused when there is an allow list.
func (r *Rules) Allowed(a netip.Addr) bool {
	if r == nil {
		return true
	}
	if r.deny.Contains(a) {
		return false
	}
	return r.allow.Len() == 0 || r.allow.Contains(a)
}
