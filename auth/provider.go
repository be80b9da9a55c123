package auth

import (
	"context"
	"errors"

	"github.com/portico-gw/portico/call"
)

// authenticator is a provider that says who called: a JWT issuer, an API
// keys file, client certificates.
type authenticator interface {
	// providerName is the provider's name in the config.
	providerName() string
	// authenticate returns the caller, errNoCredentials when the call
	// carries none of this provider's credentials, or why the credentials
	// it carries are refused (for the log; it never names a secret).
	authenticate(ctx context.Context, info *call.Info) (*call.Identity, error)
	// challenge is the WWW-Authenticate challenge for a 401; presented
	// says whether the call carried credentials of this kind.
	challenge(presented bool) string
	// places are where it reads credentials from (kept from the backend).
	places() credentials
}

// errNoCredentials: the call carries no credentials for a provider.
var errNoCredentials = errors.New("no credentials")

// PrincipalHeader is the metadata name the backend reads the caller's
// principal from.
const PrincipalHeader = "x-portico-principal"

// realm names the gateway in challenges.
const realm = `realm="portico"`
