package jwt

import (
	"context"
	"fmt"
	"os"

	"github.com/lestrrat-go/jwx/v3/jwk"
)

// Keys is where a verifier's signing keys come from.
type Keys interface {
	// Set returns the current key set. It may wait (within ctx) for a
	// first fetch; an error means no keys are known yet.
	Set(ctx context.Context) (jwk.Set, error)
	// Refetch asks for the key set again because a token named a key ID
	// the current set does not hold. Implementations bound how often this
	// really fetches; ok is false when no new set was fetched.
	Refetch(ctx context.Context) (set jwk.Set, ok bool)
}

// maxKeys bounds the keys of a set: a JWKS is a handful of keys, and each
// one may be tried for a token without a kid.
const maxKeys = 64

// parseOptions are how every key set is read: a key the library cannot
// use is skipped rather than failing the whole set (an IdP may publish
// keys of kinds Portico does not verify with).
func parseOptions() []jwk.ParseOption {
	return []jwk.ParseOption{jwk.WithIgnoreParseError(true)}
}

// StaticKeys is a key set read once (jwks_file).
type StaticKeys struct{ set jwk.Set }

// ReadKeysFile reads a JWKS file; a file with no usable key is an error.
func ReadKeysFile(path string) (*StaticKeys, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseKeys(data)
}

// ParseKeys reads a JWKS document (a {"keys": [...]} set, or one key).
func ParseKeys(data []byte) (*StaticKeys, error) {
	set, err := jwk.Parse(data, parseOptions()...)
	if err != nil {
		return nil, fmt.Errorf("not a JSON Web Key Set: %v", err)
	}
	if set.Len() == 0 {
		return nil, fmt.Errorf("the key set holds no usable key")
	}
	if set.Len() > maxKeys {
		return nil, fmt.Errorf("the key set holds %d keys, more than %d", set.Len(), maxKeys)
	}
	return &StaticKeys{set: set}, nil
}

// Set returns the file's keys.
func (s *StaticKeys) Set(context.Context) (jwk.Set, error) { return s.set, nil }

// Refetch never fetches: a file is read when the snapshot is built.
func (s *StaticKeys) Refetch(context.Context) (jwk.Set, bool) { return nil, false }
