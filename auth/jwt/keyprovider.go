package jwt

import (
	"context"
	"errors"
	"fmt"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
)

// keyProvider hands jwx the keys a token may be verified with. It is
// where Portico's rules on keys live (jwx does the cryptography):
//   - the token's alg must be in the allow-list (none never is);
//   - the key is found by the token's kid; an unknown kid asks the key
//     source for a refetch (bounded there); without a kid, every key that
//     fits is tried;
//   - a key marked for another use (use != "sig") or for another
//     algorithm (its alg differs from the token's) is never used;
//   - the key's type must be the algorithm's (RSA for RS/PS, EC for ES,
//     OKP for EdDSA, oct only for an explicitly allowed HS*), so a public
//     key can never serve as an HMAC secret.
type keyProvider struct {
	v *Verifier
}

var (
	errAlgNotAllowed = errors.New("algorithm not allowed")
	errUnknownKid    = errors.New("unknown key ID")
	errNoKey         = errors.New("no key fits the token")
)

func (kp keyProvider) FetchKeys(ctx context.Context, sink jws.KeySink, sig *jws.Signature, _ *jws.Message) error {
	h := sig.ProtectedHeaders()
	alg, ok := h.Algorithm()
	if !ok {
		return fmt.Errorf("%w: no alg", errAlgNotAllowed)
	}
	if !kp.v.allowed(alg) {
		return fmt.Errorf("%w: %q", errAlgNotAllowed, alg.String())
	}
	set, err := kp.v.keys.Set(ctx)
	if err != nil {
		return err
	}
	kid, hasKid := h.KeyID()
	if hasKid {
		key, found := set.LookupKeyID(kid)
		if !found {
			if fresh, ok := kp.v.keys.Refetch(ctx); ok {
				key, found = fresh.LookupKeyID(kid)
			}
		}
		if !found {
			return fmt.Errorf("%w %q", errUnknownKid, kid)
		}
		if err := usable(key, alg); err != nil {
			return fmt.Errorf("key %q: %w", kid, err)
		}
		sink.Key(alg, key)
		return nil
	}
	n := 0
	for i := 0; i < set.Len() && i < maxKeys; i++ {
		key, _ := set.Key(i)
		if key != nil && usable(key, alg) == nil {
			sink.Key(alg, key)
			n++
		}
	}
	if n == 0 {
		return errNoKey
	}
	return nil
}

// usable reports why key cannot verify a signature made with alg.
func usable(key jwk.Key, alg jwa.SignatureAlgorithm) error {
	if use, ok := key.KeyUsage(); ok && use != "" && use != jwk.ForSignature.String() {
		return fmt.Errorf("marked use %q", use)
	}
	if ka, ok := key.Algorithm(); ok && ka.String() != "" && ka.String() != alg.String() {
		return fmt.Errorf("marked alg %q, token says %q", ka.String(), alg.String())
	}
	if want, ok := keyTypeFor(alg); !ok || key.KeyType() != want {
		return fmt.Errorf("a %s key cannot verify %s", key.KeyType().String(), alg.String())
	}
	return nil
}

// keyTypeFor is the key type an algorithm's signatures are checked with.
func keyTypeFor(alg jwa.SignatureAlgorithm) (jwa.KeyType, bool) {
	switch alg.String() {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		return jwa.RSA(), true
	case "ES256", "ES384", "ES512", "ES256K":
		return jwa.EC(), true
	case "EdDSA", "Ed25519":
		return jwa.OKP(), true
	case "HS256", "HS384", "HS512":
		return jwa.OctetSeq(), true
	}
	return jwa.KeyType{}, false
}
