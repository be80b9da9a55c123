package auth

import (
	"context"
	"errors"

	"github.com/portico-gw/portico/auth/apikey"
	"github.com/portico-gw/portico/call"
)

// apiKeyProvider authenticates API keys looked up by their SHA-256: those
// of a keys file, and the managed ones (kept in Redis, held in memory).
type apiKeyProvider struct {
	name    string
	header  string        // metadata/header name, lower-cased; "" with query
	query   string        // REST only
	keys    *apikey.Keys  // nil: no keys file
	managed *apikey.Store // nil: no managed keys
}

var (
	errUnknownKey = errors.New("unknown API key")
	errKeyNotHere = errors.New("API key not allowed for this API")
)

func (p *apiKeyProvider) providerName() string { return p.name }

func (p *apiKeyProvider) challenge(bool) string { return `APIKey ` + realm }

func (p *apiKeyProvider) places() credentials {
	c := credentials{}
	if p.header != "" {
		c.headers = []string{p.header}
	}
	if p.query != "" {
		c.queries = []string{p.query}
	}
	return c
}

func (p *apiKeyProvider) authenticate(_ context.Context, info *call.Info) (*call.Identity, error) {
	var presented string
	if p.header != "" {
		presented = info.Header(p.header)
	}
	if presented == "" && p.query != "" && info.HTTP != nil {
		presented = info.HTTP.URL.Query().Get(p.query)
	}
	if presented == "" {
		return nil, errNoCredentials
	}
	id := &call.Identity{Provider: p.name}
	if k := p.keys.Lookup(presented); k != nil {
		id.Principal, id.APIKey, id.Plan = k.Principal, k.ID, k.Plan
	} else if r := p.managed.Lookup(presented); r != nil {
		service := ""
		if info.Method != nil {
			service = string(info.Method.Desc().Parent().FullName())
		}
		if !r.Allows(service) {
			return nil, errKeyNotHere
		}
		id.Principal, id.APIKey, id.Plan = r.Principal, r.ID, r.Plan
	} else {
		return nil, errUnknownKey // never the key itself: it must not reach a log
	}
	id.Metadata = map[string]string{PrincipalHeader: id.Principal}
	return id, nil
}

// keyProvider is what the admin API manages of this provider.
func (p *apiKeyProvider) keyProvider() KeyProvider {
	return KeyProvider{Name: p.name, File: p.keys, Managed: p.managed}
}
