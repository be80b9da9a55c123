package openapi

import (
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/portico-gw/portico/catalog"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
)

// securitySchemes describes the config's authentication providers:
//   - jwt: openIdConnect (with discovery) or an HTTP bearer JWT, plus an
//     apiKey scheme for each other place the token may come from;
//   - api_key: apiKey in its header or query parameter;
//   - mtls: mutualTLS.
//
// An external authorizer decides on the whole request; OpenAPI has no
// scheme for it, so it is left out (operations it alone guards list no
// scheme, and say so in their description).
func securitySchemes(auth *configv1.Auth) openapi3.SecuritySchemes {
	out := openapi3.SecuritySchemes{}
	for _, p := range auth.GetProviders() {
		name := p.GetName()
		switch {
		case p.GetJwt() != nil:
			j := p.GetJwt()
			sc := &openapi3.SecurityScheme{Type: "http", Scheme: "bearer", BearerFormat: "JWT", Description: "JWT issued by " + j.GetIssuer()}
			if j.GetDiscovery() {
				sc = &openapi3.SecurityScheme{
					Type:             "openIdConnect",
					OpenIdConnectUrl: strings.TrimSuffix(j.GetIssuer(), "/") + "/.well-known/openid-configuration",
					Description:      "OpenID Connect: tokens issued by " + j.GetIssuer(),
				}
			}
			out[name] = &openapi3.SecuritySchemeRef{Value: sc}
			for i, src := range j.GetTokenSources() {
				alt := &openapi3.SecurityScheme{Type: "apiKey", Description: "The same JWT, from another place"}
				switch {
				case src.GetHeader() != "":
					alt.In, alt.Name = "header", src.GetHeader()
				case src.GetQuery() != "":
					alt.In, alt.Name = "query", src.GetQuery()
				case src.GetCookie() != "":
					alt.In, alt.Name = "cookie", src.GetCookie()
				default:
					continue
				}
				if src.GetPrefix() != "" {
					alt.Description += ", after the prefix " + `"` + src.GetPrefix() + `"`
				}
				out[altName(name, i)] = &openapi3.SecuritySchemeRef{Value: alt}
			}
		case p.GetApiKey() != nil:
			k := p.GetApiKey()
			sc := &openapi3.SecurityScheme{Type: "apiKey", In: "header", Name: k.GetHeader(), Description: "API key"}
			switch {
			case k.GetHeader() == "" && k.GetQuery() != "":
				sc.In, sc.Name = "query", k.GetQuery()
			case k.GetHeader() == "":
				sc.Name = "x-api-key"
			}
			out[name] = &openapi3.SecuritySchemeRef{Value: sc}
		case p.GetMtls() != nil:
			out[name] = &openapi3.SecuritySchemeRef{Value: &openapi3.SecurityScheme{Type: "mutualTLS", Description: "A verified client certificate"}}
		}
	}
	return out
}

// altName names the scheme of a JWT provider's i-th extra token source.
func altName(provider string, i int) string {
	return provider + "_source" + strconv.Itoa(i+1)
}

// securityOf computes each method's security requirement from the
// config's apis[].auth and apis[].methods[].auth.
type securityOf struct {
	schemes openapi3.SecuritySchemes
	auth    *configv1.Auth
}

func newSecurityOf(cfg *configv1.Config, schemes openapi3.SecuritySchemes) *securityOf {
	return &securityOf{schemes: schemes, auth: cfg.GetAuth()}
}

// requirements returns the alternatives (any one suffices) that
// authenticate calls to m; nil for a public method. note says what the
// document cannot show (an external authorizer).
func (s *securityOf) requirements(m *catalog.Method) (reqs openapi3.SecurityRequirements, note string) {
	var auth *configv1.ApiAuth
	if api := m.API(); api != nil {
		auth = api.Settings.GetAuth()
	}
	providers := auth.GetProviders()
	public := auth == nil || auth.GetPublic()
	for _, o := range m.Overrides() {
		mp := o.Settings
		if mp.GetAuth() == nil {
			continue
		}
		if mp.GetAuth().GetPublic() {
			public = true
			break
		}
		public = false
		if len(mp.GetAuth().GetProviders()) > 0 {
			providers = mp.GetAuth().GetProviders()
		}
	}
	if public {
		return nil, ""
	}
	for _, p := range providers {
		if _, ok := s.schemes[p]; !ok {
			note = "Also accepted: an external authorizer's decision (provider " + p + ")."
			continue
		}
		reqs = append(reqs, openapi3.SecurityRequirement{p: []string{}})
		for i := 0; ; i++ {
			alt := altName(p, i)
			if _, ok := s.schemes[alt]; !ok {
				break
			}
			reqs = append(reqs, openapi3.SecurityRequirement{alt: []string{}})
		}
	}
	return reqs, note
}
