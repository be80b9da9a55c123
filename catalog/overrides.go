package catalog

import (
	"fmt"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
)

// Override is one apis[].methods[] entry: a method's own settings over
// its API's (auth, rate limits).
type Override struct {
	// Where is the entry's key path, e.g. "apis[0].methods[1]", for the
	// errors of the kinds that read it.
	Where string
	// Settings are the entry as the config gives it.
	Settings *configv1.MethodPolicy
}

// resolveOverrides reads every exposed API's methods[] selectors, once,
// with the one reading every kind shares (MethodSelector), and gives each
// method the entries that name it. A selector that does not read, or
// names no method of its API, is an error at its key: a policy written for
// a method that is not there is never silently unapplied. An API with a
// service that did not resolve is skipped (that problem is reported
// already, and its methods are not known).
func (b *builder) resolveOverrides() {
	for _, api := range b.apis {
		if api.Settings == nil || !b.exposedWhole(api) {
			continue
		}
		for j, mp := range api.Settings.GetMethods() {
			where := fmt.Sprintf("%s.methods[%d]", api.Where, j)
			m, err := b.cat.APIMethod(api.Services, mp.GetSelector())
			if err != nil {
				b.errs.add(where+".selector", "%v", err)
				continue
			}
			m.overrides = append(m.overrides, Override{Where: where, Settings: mp})
		}
	}
}

// exposedWhole reports whether every service of an API resolved.
func (b *builder) exposedWhole(api *API) bool {
	for _, svc := range api.Services {
		found := false
		for _, sd := range b.cat.services {
			if string(sd.FullName()) == svc {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return api.Backend != nil
}
