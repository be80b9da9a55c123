package jwt_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/portico-gw/portico/auth/authtest"
	"github.com/portico-gw/portico/auth/jwt"
)

// countingKeys counts how often the verifier asks for keys: a cached
// token must not.
type countingKeys struct {
	jwt.Keys
	sets atomic.Int64
}

func (c *countingKeys) Set(ctx context.Context) (jwk.Set, error) {
	c.sets.Add(1)
	return c.Keys.Set(ctx)
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestVerifyCachesVerifiedTokens(t *testing.T) {
	iss := authtest.NewIssuer(t)
	static, err := jwt.ParseKeys(iss.JWKS(t))
	if err != nil {
		t.Fatal(err)
	}
	keys := &countingKeys{Keys: static}
	now := time.Now()
	clock := func() time.Time { return now }
	v, err := jwt.New(jwt.Config{Issuer: iss.URL, Audiences: []string{"portico"}, Keys: keys, ClockSkew: time.Minute, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	tok := iss.Token(t, authtest.Claims{"exp": now.Add(10 * time.Minute).Unix(), "scope": "a b"})
	for i := 0; i < 5; i++ {
		got, err := v.Verify(context.Background(), tok)
		if err != nil {
			t.Fatalf("Verify #%d: %v", i, err)
		}
		if got.Subject != "alice" || got.Claims["scope"] != "a b" {
			t.Fatalf("Verify: got sub %q claims %v", got.Subject, got.Claims)
		}
	}
	if n := keys.sets.Load(); n != 1 {
		t.Errorf("5 verifications of one token looked keys up %d times, want 1 (cached)", n)
	}
	// Past exp (+ skew), the cached token is refused.
	now = now.Add(12 * time.Minute)
	if _, err := v.Verify(context.Background(), tok); err == nil {
		t.Error("Verify after exp+skew: got nil, want an error")
	}
}

func TestVerifyRefusesOversizedBeforeParsing(t *testing.T) {
	keys := &countingKeys{Keys: mustKeys(t)}
	v, err := jwt.New(jwt.Config{Issuer: "x", Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, jwt.MaxTokenBytes+1)
	for i := range big {
		big[i] = 'a'
	}
	if _, err := v.Verify(context.Background(), string(big)); !errors.Is(err, jwt.ErrTooLarge) {
		t.Errorf("Verify(9 KiB): got %v, want ErrTooLarge", err)
	}
	if keys.sets.Load() != 0 {
		t.Error("an oversized token reached key lookup")
	}
}

func mustKeys(t *testing.T) jwt.Keys {
	t.Helper()
	k, err := jwt.ParseKeys(authtest.NewIssuer(t).JWKS(t))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestNewRefusesBadConfig(t *testing.T) {
	keys := mustKeys(t)
	for _, tc := range []struct {
		name string
		cfg  jwt.Config
	}{
		{"no issuer", jwt.Config{Keys: keys}},
		{"no keys", jwt.Config{Issuer: "x"}},
		{"none", jwt.Config{Issuer: "x", Keys: keys, Algorithms: []string{"none"}}},
		{"unknown alg", jwt.Config{Issuer: "x", Keys: keys, Algorithms: []string{"XS999"}}},
		{"negative skew", jwt.Config{Issuer: "x", Keys: keys, ClockSkew: -time.Second}},
	} {
		if _, err := jwt.New(tc.cfg); err == nil {
			t.Errorf("%s: New: got nil, want an error", tc.name)
		}
	}
}

// TestRemoteKeysRefetchBound: unknown kids cause at most one fetch per
// RefetchInterval, and the keys stay known while the endpoint is down.
func TestRemoteKeysRefetchBound(t *testing.T) {
	iss := authtest.NewIssuer(t)
	k, err := jwt.NewRemoteKeys(jwt.RemoteOptions{URL: iss.JWKSURL(), RefetchInterval: time.Hour, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	ctx := context.Background()
	set, err := k.Set(ctx)
	if err != nil || set.Len() != 1 {
		t.Fatalf("Set: got %v, %v; want one key", set, err)
	}
	start := iss.Hits()
	if _, ok := k.Refetch(ctx); !ok {
		t.Fatal("first Refetch: got no fetch, want one")
	}
	for i := 0; i < 20; i++ {
		if _, ok := k.Refetch(ctx); ok {
			t.Fatalf("Refetch #%d within the interval fetched again", i+2)
		}
	}
	if n := iss.Hits() - start; n != 1 {
		t.Errorf("21 Refetch calls made %d fetches, want 1", n)
	}
	iss.SetDown(true)
	if set, err := k.Set(ctx); err != nil || set.Len() != 1 {
		t.Errorf("Set while down: got %v, %v; want the known key", set, err)
	}
}

// TestRemoteKeysRefetchAfterInterval: once the interval has passed, an
// unknown kid may fetch again; a failed fetch keeps the old keys.
func TestRemoteKeysRefetchAfterInterval(t *testing.T) {
	iss := authtest.NewIssuer(t)
	k, err := jwt.NewRemoteKeys(jwt.RemoteOptions{URL: iss.JWKSURL(), RefetchInterval: time.Nanosecond, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	ctx := context.Background()
	if _, err := k.Set(ctx); err != nil {
		t.Fatal(err)
	}
	iss.Rotate(t)
	set, ok := k.Refetch(ctx)
	if !ok || set.Len() != 2 {
		t.Fatalf("Refetch after rotation: got %v keys, ok=%v; want 2", set, ok)
	}
	iss.SetDown(true)
	if _, ok := k.Refetch(ctx); ok {
		t.Error("Refetch while down: reported a new set")
	}
	if set, err := k.Set(ctx); err != nil || set.Len() != 2 {
		t.Errorf("Set after a failed fetch: got %v, %v; want the 2 known keys", set, err)
	}
}

// TestRemoteKeysDownAtStart: with the IdP down, Set fails (no keys: calls
// are refused, never let through) and works once it is back.
func TestRemoteKeysDownAtStart(t *testing.T) {
	iss := authtest.NewIssuer(t)
	iss.SetDown(true)
	k, err := jwt.NewRemoteKeys(jwt.RemoteOptions{URL: iss.JWKSURL(), RefetchInterval: time.Nanosecond, WaitFirst: 50 * time.Millisecond, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	if _, err := k.Set(context.Background()); err == nil {
		t.Fatal("Set with the IdP down: got keys, want an error")
	}
	iss.SetDown(false)
	if set, err := k.Set(context.Background()); err != nil || set.Len() != 1 {
		t.Errorf("Set once the IdP is back: got %v, %v; want one key", set, err)
	}
}

// TestRemoteKeysDiscovery: the JWKS URL is read from the issuer's OpenID
// configuration.
func TestRemoteKeysDiscovery(t *testing.T) {
	iss := authtest.NewIssuer(t)
	k, err := jwt.NewRemoteKeys(jwt.RemoteOptions{Discovery: true, Issuer: iss.URL, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	if set, err := k.Set(context.Background()); err != nil || set.Len() != 1 {
		t.Errorf("Set: got %v, %v; want one key", set, err)
	}
}

// TestRemoteKeysBackgroundRefresh: the key set is refreshed in the
// background as the JWKS response's Cache-Control max-age asks (within
// the bounds): a key added at the IdP is known without any token asking.
func TestRemoteKeysBackgroundRefresh(t *testing.T) {
	iss := authtest.NewIssuer(t)
	iss.SetMaxAge(1)
	k, err := jwt.NewRemoteKeys(jwt.RemoteOptions{URL: iss.JWKSURL(), MinRefresh: time.Second, MaxRefresh: time.Hour, RefetchInterval: time.Hour, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	if _, err := k.Set(context.Background()); err != nil {
		t.Fatal(err)
	}
	iss.Rotate(t)
	deadline := time.Now().Add(15 * time.Second)
	for {
		set, err := k.Set(context.Background())
		if err == nil && set.Len() == 2 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 15s the cached set has %d keys, want 2 (max-age=1 not honoured)", set.Len())
		}
		time.Sleep(100 * time.Millisecond) // polling a background refresh, not waiting for a server
	}
}
