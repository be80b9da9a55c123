// Package jwt verifies JSON Web Tokens against an issuer's keys: a key set
// from a file or fetched over HTTP(S) (optionally found through OpenID
// Connect discovery) and kept fresh in the background. The cryptography
// and claim checks are jwx's (github.com/lestrrat-go/jwx/v3); this package
// decides which keys and algorithms a token may use, bounds refetches, and
// caches verified tokens by hash so a token seen again costs no signature
// check.
package jwt

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/lestrrat-go/jwx/v3/jwa"
	jwxjwt "github.com/lestrrat-go/jwx/v3/jwt"
)

// MaxTokenBytes is the size over which a token is refused before any
// parsing.
const MaxTokenBytes = 8 << 10

// DefaultAlgorithms are allowed when the config names none.
func DefaultAlgorithms() []string { return []string{"RS256", "ES256"} }

// Config is what a Verifier checks.
type Config struct {
	// Issuer is the required iss.
	Issuer string
	// Audiences: aud must hold one of them; empty means aud is not
	// checked.
	Audiences []string
	// Algorithms is the allow-list; empty means DefaultAlgorithms. "none"
	// is refused; HS* only when listed.
	Algorithms []string
	// ClockSkew is the tolerance on exp, nbf and iat.
	ClockSkew time.Duration
	// Keys is where the signing keys come from.
	Keys Keys
	// Now is the clock (tests). Default time.Now.
	Now func() time.Time
	// CacheSize bounds the verified-token cache. Default 10000; negative
	// turns the cache off.
	CacheSize int
	// CacheMaxAge bounds how long a verified token is trusted without a
	// new signature check (it is never trusted past its exp). Default 5m,
	// so a key the IdP withdraws stops working within that time.
	CacheMaxAge time.Duration
}

// Token is a verified token. It is shared (cached): read it, never change
// it.
type Token struct {
	// Subject is sub.
	Subject string
	// Claims are the payload's claims as JSON values (numbers float64).
	Claims map[string]any
	// Expiry and NotBefore are exp and nbf (zero when absent).
	Expiry, NotBefore time.Time

	memo atomic.Pointer[any]
}

// Memo returns what derive makes of the token, made once per verified
// token (a cached token's callers share it): per-token work such as the
// metadata a provider sends to backends is not redone on every call.
// derive must be pure; it may run more than once under a race.
func (t *Token) Memo(derive func(*Token) any) any {
	if p := t.memo.Load(); p != nil {
		return *p
	}
	v := derive(t)
	t.memo.CompareAndSwap(nil, &v)
	return *t.memo.Load()
}

// Verifier checks tokens of one issuer. It is safe for concurrent use.
type Verifier struct {
	cfg   Config
	algs  []string
	keys  Keys
	cache *lru.Cache[[sha256.Size]byte, cached]
	opts  []jwxjwt.ParseOption
}

type cached struct {
	tok   *Token
	until time.Time
}

// Errors say why a token was refused (for the log, never the client).
var (
	ErrTooLarge  = fmt.Errorf("token larger than %d bytes", MaxTokenBytes)
	ErrMalformed = errors.New("malformed token")
)

// New makes a verifier; a bad configuration is an error.
func New(cfg Config) (*Verifier, error) {
	if cfg.Keys == nil {
		return nil, errors.New("no keys")
	}
	if cfg.Issuer == "" {
		return nil, errors.New("issuer is required")
	}
	if cfg.ClockSkew < 0 {
		return nil, errors.New("clock_skew must not be negative")
	}
	algs := cfg.Algorithms
	if len(algs) == 0 {
		algs = DefaultAlgorithms()
	}
	for _, a := range algs {
		if strings.EqualFold(a, "none") {
			return nil, errors.New(`algorithm "none" is never allowed`)
		}
		sa, ok := jwa.LookupSignatureAlgorithm(a)
		if !ok {
			return nil, fmt.Errorf("unknown algorithm %q", a)
		}
		if _, ok := keyTypeFor(sa); !ok {
			return nil, fmt.Errorf("algorithm %q is not supported", a)
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.CacheMaxAge <= 0 {
		cfg.CacheMaxAge = 5 * time.Minute
	}
	v := &Verifier{cfg: cfg, algs: slices.Clone(algs), keys: cfg.Keys}
	if cfg.CacheSize == 0 {
		cfg.CacheSize = 10000
	}
	if cfg.CacheSize > 0 {
		c, err := lru.New[[sha256.Size]byte, cached](cfg.CacheSize)
		if err != nil {
			return nil, err
		}
		v.cache = c
	}
	v.opts = []jwxjwt.ParseOption{
		jwxjwt.WithKeyProvider(keyProvider{v: v}),
		jwxjwt.WithValidate(true),
		jwxjwt.WithIssuer(cfg.Issuer),
		jwxjwt.WithRequiredClaim(jwxjwt.ExpirationKey),
		jwxjwt.WithAcceptableSkew(cfg.ClockSkew),
		jwxjwt.WithClock(jwxjwt.ClockFunc(cfg.Now)),
	}
	if len(cfg.Audiences) > 0 {
		auds := slices.Clone(cfg.Audiences)
		v.opts = append(v.opts, jwxjwt.WithValidator(jwxjwt.ValidatorFunc(func(_ context.Context, t jwxjwt.Token) error {
			got, _ := t.Audience()
			for _, a := range got {
				if slices.Contains(auds, a) {
					return nil
				}
			}
			return fmt.Errorf("aud %q is not one of %q", got, auds)
		})))
	}
	return v, nil
}

func (v *Verifier) allowed(alg jwa.SignatureAlgorithm) bool {
	return slices.Contains(v.algs, alg.String())
}

// Verify checks a compact token and returns it verified, or why it is
// refused.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Token, error) {
	if len(raw) > MaxTokenBytes {
		return nil, ErrTooLarge
	}
	now := v.cfg.Now()
	var sum [sha256.Size]byte
	if v.cache != nil {
		// The token is hashed in place: converting it to []byte would copy
		// up to 8 KiB on every call of the hot path; sha256 neither keeps
		// nor changes its input.
		sum = sha256.Sum256(unsafe.Slice(unsafe.StringData(raw), len(raw)))
		if c, ok := v.cache.Get(sum); ok {
			if now.Before(c.until) && v.timely(c.tok, now) {
				return c.tok, nil
			}
			v.cache.Remove(sum)
		}
	}
	opts := append(v.opts[:len(v.opts):len(v.opts)], jwxjwt.WithContext(ctx))
	t, err := jwxjwt.ParseString(raw, opts...)
	if err != nil {
		return nil, err
	}
	claims, err := payloadClaims(raw)
	if err != nil {
		return nil, err
	}
	tok := &Token{Claims: claims}
	tok.Subject, _ = t.Subject()
	tok.Expiry, _ = t.Expiration()
	tok.NotBefore, _ = t.NotBefore()
	if v.cache != nil {
		until := now.Add(v.cfg.CacheMaxAge)
		if exp := tok.Expiry.Add(v.cfg.ClockSkew); exp.Before(until) {
			until = exp
		}
		if now.Before(until) {
			v.cache.Add(sum, cached{tok: tok, until: until})
		}
	}
	return tok, nil
}

// timely re-checks the time claims of a cached token.
func (v *Verifier) timely(t *Token, now time.Time) bool {
	if !t.Expiry.IsZero() && !now.Before(t.Expiry.Add(v.cfg.ClockSkew)) {
		return false
	}
	if !t.NotBefore.IsZero() && now.Before(t.NotBefore.Add(-v.cfg.ClockSkew)) {
		return false
	}
	return true
}

// payloadClaims decodes the claims of a token jwx has verified: exactly
// the bytes the issuer signed, as JSON values.
func payloadClaims(raw string) (map[string]any, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, ErrMalformed
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, ErrMalformed
	}
	var claims map[string]any
	if err := json.Unmarshal(b, &claims); err != nil || claims == nil {
		return nil, ErrMalformed
	}
	return claims, nil
}
