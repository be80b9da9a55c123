package cache

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/config"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
)

// TestBuildRefuses: cache is a config error, at its key, on a method
// that may have side effects (a POST binding, or gRPC-only without
// NO_SIDE_EFFECTS), on a streaming one, with a key part that does not
// read, twice, or principal in a shared key; a bad max_bytes and a
// redis store without a Redis are errors too.
func TestBuildRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  *configv1.Config
		want string
	}{
		{"post", cached("example.bookstore.v1.BookstoreService.CreateShelf", &configv1.MethodCache{Ttl: ttl(time.Second)}),
			"apis[0].methods[0].cache: example.bookstore.v1.BookstoreService.CreateShelf may have side effects"},
		{"grpc only", cached("example.bookstore.v1.BookstoreService.GetShelfStats", &configv1.MethodCache{Ttl: ttl(time.Second)}),
			"GetShelfStats may have side effects"},
		{"stream", cached("example.bookstore.v1.BookstoreService.WatchBooks", &configv1.MethodCache{Ttl: ttl(time.Second)}),
			"WatchBooks streams: only unary methods are cached"},
		{"bad part", cached("example.bookstore.v1.BookstoreService.GetShelf", &configv1.MethodCache{Ttl: ttl(time.Second), Key: []string{"cookie"}}),
			`apis[0].methods[0].cache.key[0]: "cookie" is not a key part`},
		{"bad header", cached("example.bookstore.v1.BookstoreService.GetShelf", &configv1.MethodCache{Ttl: ttl(time.Second), Key: []string{"header:a b"}}),
			`"header:a b" is not a key part`},
		{"twice", cached("example.bookstore.v1.BookstoreService.GetShelf", &configv1.MethodCache{Ttl: ttl(time.Second), Key: []string{"header:Accept-Language", "header:accept-language"}}),
			`cache.key[1]: "header:accept-language" is listed twice`},
		{"shared principal", cached("example.bookstore.v1.BookstoreService.GetShelf", &configv1.MethodCache{Ttl: ttl(time.Second), Shared: true, Key: []string{"principal"}}),
			"cache.key[0]: principal in the key of a shared cache"},
		{"max_bytes", func() *configv1.Config {
			c := cached("example.bookstore.v1.BookstoreService.GetShelf", &configv1.MethodCache{Ttl: ttl(time.Second)})
			c.Cache = &configv1.Cache{MaxBytes: "lots"}
			return c
		}(), `cache.max_bytes: "lots" is not a size`},
		{"redis", func() *configv1.Config {
			c := cached("example.bookstore.v1.BookstoreService.GetShelf", &configv1.MethodCache{Ttl: ttl(time.Second)})
			c.Cache = &configv1.Cache{Store: "redis"}
			return c
		}(), "cache.store: store: redis needs a Redis"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Build(env(t, tc.cfg))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Build: got %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// TestBuildNothingCached: without methods[].cache the kind is not built;
// a top-level cache then is warned about, as unused.
func TestBuildNothingCached(t *testing.T) {
	cfg := cached("example.bookstore.v1.BookstoreService.GetShelf", nil)
	cfg.Cache = &configv1.Cache{MaxBytes: "1MiB"}
	e := env(t, cfg)
	var warnings []*config.Error
	e.OnWarning = func(w *config.Error) { warnings = append(warnings, w) }
	if p, err := Build(e); p != nil || err != nil {
		t.Errorf("Build = %v, %v; want nil, nil", p, err)
	}
	if len(warnings) != 1 || warnings[0].Field != "cache" || !strings.Contains(warnings[0].Message, "no method is cached") {
		t.Errorf("warnings = %v, want one at cache: no method is cached", warnings)
	}
}

// TestKeyParts: the key is the method, the parts the rule names and the
// request's deterministic bytes: the same request gives the same key,
// another request, principal or listed header another; a shared rule
// leaves the principal out; a value cannot fake another part.
func TestKeyParts(t *testing.T) {
	r := &rule{prefix: "/example.bookstore.v1.BookstoreService/GetShelf|", principal: true, headers: []string{"accept-language"}}
	as := func(principal, lang string) *call.Info {
		req, _ := http.NewRequest("GET", "/v1/shelves/1", nil)
		if lang != "" {
			req.Header.Set("Accept-Language", lang)
		}
		info := call.NewHTTP(req)
		if principal != "" {
			info.Identity = &call.Identity{Principal: principal}
		}
		return info
	}
	key := func(r *rule, info *call.Info, shelf int64) string {
		k, err := r.key(info, &bookstorev1.GetShelfRequest{Shelf: shelf})
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	base := key(r, as("alice", "en"), 1)
	if !strings.HasPrefix(base, "/example.bookstore.v1.BookstoreService/GetShelf|principal=alice|header:accept-language=en|") {
		t.Errorf("key = %q, want the method, principal and header parts first", base)
	}
	if again := key(r, as("alice", "en"), 1); again != base {
		t.Errorf("same call: key %q, want %q", again, base)
	}
	for name, other := range map[string]string{
		"another request":   key(r, as("alice", "en"), 2),
		"another principal": key(r, as("bob", "en"), 1),
		"another header":    key(r, as("alice", "fr"), 1),
		"anonymous":         key(r, as("", "en"), 1),
		"a faked part":      key(r, as("alice|header:accept-language=en", ""), 1),
	} {
		if other == base {
			t.Errorf("%s: same key %q", name, base)
		}
	}
	shared := &rule{prefix: r.prefix}
	if a, b := key(shared, as("alice", ""), 1), key(shared, as("bob", ""), 1); a != b || strings.Contains(a, "principal") {
		t.Errorf("shared rule: keys %q and %q, want one key without the principal", a, b)
	}
}
