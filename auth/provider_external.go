package auth

import (
	"github.com/portico-gw/portico/auth/extauthz"
)

// externalProvider is an ext_authz authorizer: asked after the call is
// authenticated (with the principal so far), it allows or denies.
type externalProvider struct {
	name   string
	client *extauthz.Client
}
