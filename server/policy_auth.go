package server

import (
	"net/http"

	"github.com/portico-gw/portico/auth"
	"github.com/portico-gw/portico/pipeline"
)

// authPolicies returns the authentication gate (auth.providers,
// apis[].auth), the authorization policy that runs on the decoded request
// (CEL `require` rules reading request fields), and the metadata names
// authentication sets for backends (x-portico-principal, forwarded
// claims), which no client may send. Nil parts when the config sets no
// auth. APIs left public without `auth: {public: true}` are warnings; the
// pooled JWKS caches and authorizer clients are released when the
// snapshot closes.
func authPolicies(b *buildEnv) (authn, authz pipeline.Policy, reserved func(string) bool, err error) {
	pol, err := auth.Build(auth.Env{
		Config:  b.cfg.Config,
		Resolve: b.cfg.Resolve,
		Methods: b.catalog.MethodList(),
		Routes:  b.routeMethods,
		Pool:    b.opts.Pool,
		Logger:  b.opts.Logger,
		Check:   b.opts.Check,
	})
	if err != nil {
		return nil, nil, nil, err
	}
	b.snap.onClose(pol.Close)
	b.warnings = append(b.warnings, pol.Warnings...)
	return pol.Authn, pol.Authz, pol.Reserved, nil
}

// withoutCredentials is a plain route's request to its backend without the
// credentials its auth gate consumed (headers, cookies, query parameters),
// unless the route forwards them (routes[].forward_credentials). The
// request policies saw (call.Info) is left as it came.
func withoutCredentials(out *http.Request) *http.Request {
	return auth.WithoutCredentials(out)
}
