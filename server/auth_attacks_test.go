package server_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/portico-gw/portico/auth/authtest"
	"google.golang.org/grpc/codes"
)

const getBookPath = "/v1/shelves/1/books/1"

// b64 is base64url without padding, as in a compact JWS.
func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// newRSAJWK makes a private JWK with kid, alg and use as given ("" leaves
// one out).
func newRSAJWK(t *testing.T, kid, alg, use string) jwk.Key {
	t.Helper()
	raw, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	k, err := jwk.Import(raw)
	if err != nil {
		t.Fatal(err)
	}
	_ = k.Set(jwk.KeyIDKey, kid)
	if alg != "" {
		_ = k.Set(jwk.AlgorithmKey, alg)
	}
	if use != "" {
		_ = k.Set(jwk.KeyUsageKey, use)
	}
	return k
}

func publicOf(t *testing.T, k jwk.Key) jwk.Key {
	t.Helper()
	pub, err := k.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// TestAuthAttacks runs the attack list against both doors: every forged,
// stale, misdirected or malformed token is 401 UNAUTHENTICATED with a
// bearer challenge and the body "unauthenticated", and nothing reaches the
// backend. A valid token, the control, goes through.
func TestAuthAttacks(t *testing.T) {
	var encKey, rs384Key jwk.Key
	e := startAuth(t, nil)
	iss := e.iss
	encKey = newRSAJWK(t, "enc1", "RS256", "enc")
	rs384Key = newRSAJWK(t, "rs384", "RS384", "sig")
	iss.Publish(publicOf(t, encKey))
	iss.Publish(publicOf(t, rs384Key))

	signing := iss.SigningKey()
	var rawPub rsa.PublicKey
	pubJWK := publicOf(t, signing)
	if err := jwk.Export(pubJWK, &rawPub); err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&rawPub)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	now := time.Now()
	claims := func(extra map[string]any) []byte {
		c := map[string]any{"iss": iss.URL, "aud": "portico", "sub": "mallory", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
		for k, v := range extra {
			c[k] = v
		}
		b, _ := json.Marshal(c)
		return b
	}
	valid := iss.Token(t, nil)
	parts := strings.Split(valid, ".")
	flipped := []byte(parts[2])
	flipped[10] ^= 0x01
	if flipped[10] == parts[2][10] {
		t.Fatal("signature unchanged")
	}
	stranger := newRSAJWK(t, "nope", "RS256", "sig")

	tests := []struct {
		name  string
		token string
		// presented: the challenge says error="invalid_token"
		presented bool
	}{
		{"no token", "", false},
		{"alg none", b64(`{"alg":"none","typ":"JWT"}`) + "." + b64(string(claims(nil))) + ".", true},
		{"alg none with kid", b64(`{"alg":"none","kid":"k1"}`) + "." + b64(string(claims(nil))) + ".", true},
		{"algorithm outside the allow-list", authtest.SignRaw(t, claims(nil), jwa.RS512(), signing, map[string]any{"kid": "k1"}), true},
		{"RS256 to HS256 confusion (PEM public key as secret)", authtest.SignRaw(t, claims(nil), jwa.HS256(), pubPEM, map[string]any{"kid": "k1"}), true},
		{"RS256 to HS256 confusion (modulus as secret)", authtest.SignRaw(t, claims(nil), jwa.HS256(), rawPub.N.Bytes(), map[string]any{"kid": "k1"}), true},
		{"expired", iss.Token(t, authtest.Claims{"exp": now.Add(-2 * time.Hour).Unix(), "iat": now.Add(-3 * time.Hour).Unix()}), true},
		{"not yet valid", iss.Token(t, authtest.Claims{"nbf": now.Add(2 * time.Hour).Unix()}), true},
		{"issued in the future", iss.Token(t, authtest.Claims{"iat": now.Add(2 * time.Hour).Unix()}), true},
		{"no exp", iss.Token(t, authtest.Claims{"exp": nil}), true},
		{"wrong issuer", iss.Token(t, authtest.Claims{"iss": "https://evil.example"}), true},
		{"wrong audience", iss.Token(t, authtest.Claims{"aud": "someone-else"}), true},
		{"bad signature", parts[0] + "." + parts[1] + "." + string(flipped), true},
		{"payload swapped under a valid signature", parts[0] + "." + b64(string(claims(map[string]any{"sub": "admin"}))) + "." + parts[2], true},
		{"unknown kid", authtest.SignRaw(t, claims(nil), jwa.RS256(), stranger, map[string]any{"kid": "nope"}), true},
		{"JWK with use enc", authtest.SignRaw(t, claims(nil), jwa.RS256(), encKey, map[string]any{"kid": "enc1"}), true},
		{"JWK with another alg", authtest.SignRaw(t, claims(nil), jwa.RS256(), rs384Key, map[string]any{"kid": "rs384"}), true},
		{"embedded jwk header", authtest.SignRaw(t, claims(nil), jwa.RS256(), stranger, map[string]any{"jwk": publicOf(t, stranger)}), true},
		{"malformed base64", "eyJhbGciOiJSUzI1NiJ9.@@@not-base64@@@.c2ln", true},
		{"malformed JSON header", b64(`{"alg":"RS256",`) + "." + b64(string(claims(nil))) + "." + parts[2], true},
		{"malformed JSON payload", parts[0] + "." + b64(`{"sub":`) + "." + parts[2], true},
		{"not a JWT", "hello", true},
		{"oversized", iss.Token(t, authtest.Claims{"pad": strings.Repeat("x", 9<<10)}), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := e.rec.Calls()
			hdr := map[string]string{}
			if tc.token != "" {
				hdr = bearer(tc.token)
			}
			a := restCall(t, e.URL, http.MethodGet, getBookPath, hdr, "")
			if a.code != http.StatusUnauthorized {
				t.Errorf("REST: got %d %s, want 401", a.code, a.body)
			}
			var body struct{ Message string }
			if err := json.Unmarshal([]byte(a.body), &body); err != nil || body.Message != "unauthenticated" {
				t.Errorf("REST body: got %s, want message \"unauthenticated\"", a.body)
			}
			wantChallenge := `Bearer realm="portico"`
			if tc.presented {
				wantChallenge += `, error="invalid_token"`
			}
			if got := a.header.Get("WWW-Authenticate"); got != wantChallenge {
				t.Errorf("REST WWW-Authenticate: got %q, want %q", got, wantChallenge)
			}

			md := map[string]string{}
			if tc.token != "" {
				md = grpcBearer(tc.token)
			}
			st, rh := grpcGetBook(t, e.Conn, "shelves/1/books/1", md)
			if st.Code() != codes.Unauthenticated || st.Message() != "unauthenticated" {
				t.Errorf("gRPC: got %v %q, want Unauthenticated \"unauthenticated\"", st.Code(), st.Message())
			}
			if got := rh.Get("www-authenticate"); len(got) != 1 || got[0] != wantChallenge {
				t.Errorf("gRPC www-authenticate: got %q, want %q", got, wantChallenge)
			}
			if n := e.rec.Calls() - before; n != 0 {
				t.Errorf("backend got %d calls, want 0", n)
			}
		})
	}

	t.Run("control: a valid token", func(t *testing.T) {
		if a := restCall(t, e.URL, http.MethodGet, getBookPath, bearer(valid), ""); a.code != http.StatusOK {
			t.Errorf("REST: got %d %s, want 200", a.code, a.body)
		}
		if st, _ := grpcGetBook(t, e.Conn, "shelves/1/books/1", grpcBearer(valid)); st.Code() != codes.OK {
			t.Errorf("gRPC: got %v, want OK", st.Err())
		}
	})
}

// TestAuthRandomKidFlood: tokens naming made-up key IDs cost the IdP at
// most one JWKS fetch per refetch interval, on both doors together.
func TestAuthRandomKidFlood(t *testing.T) {
	e := startAuth(t, nil)
	// A first good call makes the gateway fetch the key set.
	if a := restCall(t, e.URL, http.MethodGet, getBookPath, bearer(e.iss.Token(t, nil)), ""); a.code != http.StatusOK {
		t.Fatalf("valid token: got %d %s, want 200", a.code, a.body)
	}
	start := e.iss.Hits()
	key := newRSAJWK(t, "x", "RS256", "sig")
	for i := 0; i < 40; i++ {
		tok := authtest.SignRaw(t, []byte(fmt.Sprintf(`{"iss":%q,"aud":"portico","sub":"x","exp":%d}`, e.iss.URL, time.Now().Add(time.Hour).Unix())),
			jwa.RS256(), key, map[string]any{"kid": fmt.Sprintf("random-%d", i)})
		if i%2 == 0 {
			if a := restCall(t, e.URL, http.MethodGet, getBookPath, bearer(tok), ""); a.code != http.StatusUnauthorized {
				t.Fatalf("REST: got %d, want 401", a.code)
			}
		} else if st, _ := grpcGetBook(t, e.Conn, "shelves/1/books/1", grpcBearer(tok)); st.Code() != codes.Unauthenticated {
			t.Fatalf("gRPC: got %v, want Unauthenticated", st.Code())
		}
	}
	if n := e.iss.Hits() - start; n > 1 {
		t.Errorf("40 unknown kids caused %d JWKS fetches, want at most 1", n)
	}
}
