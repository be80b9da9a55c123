// Package authtest is what auth tests need, made at test time: an
// identity provider that signs tokens and serves its JWKS over HTTP on a
// :0 port (keys rotate on demand; it can be taken down), certificates from
// a throw-away CA, and a real ext_authz gRPC server. Nothing here holds a
// committed key.
package authtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// Issuer is a test identity provider.
type Issuer struct {
	// URL is the issuer (iss) and the base of its endpoints:
	// URL+"/jwks.json" and URL+"/.well-known/openid-configuration".
	URL string

	mu     sync.Mutex
	keys   []jwk.Key // private keys, newest first; the JWKS publishes their public halves
	extra  []jwk.Key // extra public keys published as they are (tests of use/alg)
	down   bool
	maxAge int // Cache-Control max-age of the JWKS; 0: none
	next   int

	hits atomic.Int64
}

// NewIssuer starts an issuer with one RSA key ("k1"), stopped by t.Cleanup.
func NewIssuer(t testing.TB) *Issuer {
	t.Helper()
	iss := &Issuer{}
	mux := http.NewServeMux()
	mux.HandleFunc("/jwks.json", iss.serveJWKS)
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": iss.URL, "jwks_uri": iss.URL + "/jwks.json"})
	})
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	iss.URL = ts.URL
	iss.Rotate(t)
	return iss
}

// JWKSURL is where the key set is served.
func (i *Issuer) JWKSURL() string { return i.URL + "/jwks.json" }

// Hits is how many times the JWKS was fetched.
func (i *Issuer) Hits() int64 { return i.hits.Load() }

// SetDown makes the JWKS endpoint answer 503 (true) or serve again.
func (i *Issuer) SetDown(down bool) {
	i.mu.Lock()
	i.down = down
	i.mu.Unlock()
}

// SetMaxAge sets the JWKS response's Cache-Control max-age in seconds.
func (i *Issuer) SetMaxAge(seconds int) {
	i.mu.Lock()
	i.maxAge = seconds
	i.mu.Unlock()
}

// Rotate adds a new RSA signing key (kid "k1", "k2", ...) that becomes the
// one Sign uses; the previous key stays published. It returns the kid.
func (i *Issuer) Rotate(t testing.TB) string {
	t.Helper()
	raw, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return i.add(t, raw, jwa.RS256())
}

// AddECKey adds a P-256 key (ES256) as the signing key; returns its kid.
func (i *Issuer) AddECKey(t testing.TB) string {
	t.Helper()
	raw, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return i.add(t, raw, jwa.ES256())
}

func (i *Issuer) add(t testing.TB, raw any, alg jwa.SignatureAlgorithm) string {
	t.Helper()
	key, err := jwk.Import(raw)
	if err != nil {
		t.Fatal(err)
	}
	i.mu.Lock()
	i.next++
	kid := fmt.Sprintf("k%d", i.next)
	i.mu.Unlock()
	_ = key.Set(jwk.KeyIDKey, kid)
	_ = key.Set(jwk.AlgorithmKey, alg)
	_ = key.Set(jwk.KeyUsageKey, "sig")
	i.mu.Lock()
	i.keys = append([]jwk.Key{key}, i.keys...)
	i.mu.Unlock()
	return kid
}

// Publish adds a public key to the JWKS as it is (with whatever use and
// alg it carries).
func (i *Issuer) Publish(k jwk.Key) {
	i.mu.Lock()
	i.extra = append(i.extra, k)
	i.mu.Unlock()
}

// SigningKey is the newest private key (tests that forge tokens).
func (i *Issuer) SigningKey() jwk.Key {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.keys[0]
}

// JWKS is the published key set as JSON (jwks_file tests).
func (i *Issuer) JWKS(t testing.TB) []byte {
	t.Helper()
	set := jwk.NewSet()
	i.mu.Lock()
	defer i.mu.Unlock()
	for _, k := range i.keys {
		pub, err := k.PublicKey()
		if err != nil {
			t.Fatal(err)
		}
		_ = set.AddKey(pub)
	}
	for _, k := range i.extra {
		_ = set.AddKey(k)
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (i *Issuer) serveJWKS(w http.ResponseWriter, r *http.Request) {
	i.hits.Add(1)
	i.mu.Lock()
	down, maxAge := i.down, i.maxAge
	i.mu.Unlock()
	if down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	set := jwk.NewSet()
	i.mu.Lock()
	for _, k := range i.keys {
		pub, _ := k.PublicKey()
		_ = set.AddKey(pub)
	}
	for _, k := range i.extra {
		_ = set.AddKey(k)
	}
	i.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if maxAge > 0 {
		w.Header().Set("Cache-Control", fmt.Sprintf("max-age=%d", maxAge))
	}
	_ = json.NewEncoder(w).Encode(set)
}

// Claims are a token's claims; Token fills iss, exp and iat unless set.
type Claims map[string]any

// Token signs claims with the newest key (RS256 or ES256 by key), with
// defaults: iss the issuer, aud "portico", sub "alice", iat now, exp in an
// hour. A claim set to nil is left out.
func (i *Issuer) Token(t testing.TB, c Claims) string {
	t.Helper()
	key := i.SigningKey()
	alg, _ := key.Algorithm()
	return i.TokenWith(t, c, alg.(jwa.SignatureAlgorithm), key)
}

// TokenWith signs claims with a given algorithm and key (attacks).
func (i *Issuer) TokenWith(t testing.TB, c Claims, alg jwa.SignatureAlgorithm, key any) string {
	t.Helper()
	tok := jwt.New()
	now := time.Now()
	defaults := Claims{"iss": i.URL, "aud": "portico", "sub": "alice", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	for k, v := range defaults {
		if _, set := c[k]; !set {
			_ = tok.Set(k, v)
		}
	}
	for k, v := range c {
		if v != nil {
			if err := tok.Set(k, v); err != nil {
				t.Fatalf("claim %s: %v", k, err)
			}
		}
	}
	b, err := jwt.Sign(tok, jwt.WithKey(alg, key))
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return string(b)
}

// SignRaw signs a payload with custom protected headers (attacks that
// need a header jwt.Sign would not write).
func SignRaw(t testing.TB, payload []byte, alg jwa.SignatureAlgorithm, key any, headers map[string]any) string {
	t.Helper()
	h := jws.NewHeaders()
	for k, v := range headers {
		_ = h.Set(k, v)
	}
	b, err := jws.Sign(payload, jws.WithKey(alg, key, jws.WithProtectedHeaders(h)))
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return string(b)
}
