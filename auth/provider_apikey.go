package auth

import (
	"context"
	"errors"

	"github.com/portico-gw/portico/auth/apikey"
	"github.com/portico-gw/portico/call"
)

// apiKeyProvider authenticates API keys looked up by their SHA-256.
type apiKeyProvider struct {
	name   string
	header string // metadata/header name, lower-cased; "" with query
	query  string // REST only
	keys   *apikey.Keys
}

var errUnknownKey = errors.New("unknown API key")

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
	k := p.keys.Lookup(presented)
	if k == nil {
		return nil, errUnknownKey // never the key itself: it must not reach a log
	}
	return &call.Identity{
		Provider:  p.name,
		Principal: k.Principal,
		APIKey:    k.ID,
		Plan:      k.Plan,
		Metadata:  map[string]string{PrincipalHeader: k.Principal},
	}, nil
}
