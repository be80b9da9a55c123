package server

import "github.com/portico-gw/portico/pipeline"

// authPolicies returns the authentication gate (auth.providers,
// apis[].auth), the authorization policy that runs on the decoded request
// (CEL `require` rules reading request fields), and the metadata names
// authentication sets for backends (x-portico-principal, forwarded
// claims), which no client may send. Nil parts when the config sets no
// auth.
func authPolicies(b *buildEnv) (authn, authz pipeline.Policy, reserved func(string) bool, err error) {
	return nil, nil, nil, nil
}
