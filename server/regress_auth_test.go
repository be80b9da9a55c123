package server_test

// The findings of issue 14 about authentication and rate limits (one
// test per finding, named for it; the other regress_*_test.go files hold
// the others).

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/portico-gw/portico/auth/apikey"
	"github.com/portico-gw/portico/auth/authtest"
	"github.com/portico-gw/portico/config"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	messagingv1 "github.com/portico-gw/portico/gen/example/messaging/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
	"github.com/portico-gw/portico/snapshot"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// TestRegressSelectorSyntax (issue 14, point 11): a per-method rate limit
// whose selector was written as the gRPC path (/package.Service/Method)
// was silently ignored; auth read that form, rate limits did not. Every
// policy kind now reads selectors the same way (catalog.MethodSelector),
// on both doors; a selector naming no method of the API is a config error
// at its key, whatever policies it carries.
func TestRegressSelectorSyntax(t *testing.T) {
	limited := func(selector string) func(*configv1.Config) {
		return func(c *configv1.Config) {
			c.RateLimits = &configv1.RateLimits{Policies: []*configv1.RateLimitPolicy{{Name: "once", Key: "method", Rate: "1/h", Burst: 1}}}
			c.Apis[0].Auth = &configv1.ApiAuth{Public: true}
			c.Apis[0].Methods = []*configv1.MethodPolicy{{Selector: selector, RateLimits: []string{"once"}}}
		}
	}
	for _, sel := range []string{"example.bookstore.v1.BookstoreService.ListShelves", "/example.bookstore.v1.BookstoreService/ListShelves"} {
		t.Run("REST "+sel, func(t *testing.T) {
			env := servertest.Start(t, servertest.Options{Config: limited(sel)})
			if code, body := restGet(t, env.URL+"/v1/shelves"); code != http.StatusOK {
				t.Fatalf("first call: got %d %s, want 200", code, body)
			}
			if code, body := restGet(t, env.URL+"/v1/shelves"); code != http.StatusTooManyRequests {
				t.Errorf("second call: got %d %s, want 429 (the method's limit is one call an hour)", code, body)
			}
		})
		t.Run("gRPC "+sel, func(t *testing.T) {
			env := servertest.Start(t, servertest.Options{Config: limited(sel)})
			client := bookstorev1.NewBookstoreServiceClient(env.Conn)
			if _, err := client.ListShelves(context.Background(), &bookstorev1.ListShelvesRequest{}); err != nil {
				t.Fatalf("first call: %v", err)
			}
			if _, err := client.ListShelves(context.Background(), &bookstorev1.ListShelvesRequest{}); status.Code(err) != codes.ResourceExhausted {
				t.Errorf("second call: got %v, want RESOURCE_EXHAUSTED", err)
			}
		})
	}
	for _, sel := range []string{"/example.bookstore.v1.BookstoreService/Nope", "example.bookstore.v1.BookstoreService", "example/bookstore/v1.BookstoreService/ListShelves"} {
		cfg := servertest.BookstoreConfig("127.0.0.1:1")
		limited(sel)(cfg)
		cfg.Apis[0].Methods = append([]*configv1.MethodPolicy{{Selector: "example.bookstore.v1.BookstoreService.GetBook"}}, cfg.Apis[0].Methods...)
		_, err := snapshot.Build(&config.File{Config: cfg, Dir: "."}, snapshot.Options{})
		if err == nil || !strings.Contains(err.Error(), "apis[0].methods[1].selector") {
			t.Errorf("selector %q: got %v, want a config error at apis[0].methods[1].selector", sel, err)
		}
	}
}

// TestRegressJWTAudiences (issue 14, point 10): a jwt provider without
// audiences let in tokens the issuer made for any other service; it is a
// config error now, and ["*"] is the explicit way to accept any audience
// (before, "*" was an audience no token had).
func TestRegressJWTAudiences(t *testing.T) {
	cfg := servertest.BookstoreConfig("127.0.0.1:1")
	iss := authtest.NewIssuer(t)
	cfg.Auth = &configv1.Auth{Providers: []*configv1.AuthProvider{jwtProvider(iss)}}
	cfg.Auth.Providers[0].GetJwt().Audiences = nil
	cfg.Apis[0].Auth = &configv1.ApiAuth{Providers: []string{"corp"}}
	if _, err := snapshot.Build(&config.File{Config: cfg, Dir: "."}, snapshot.Options{}); err == nil || !strings.Contains(err.Error(), "auth.providers[0].jwt.audiences") {
		t.Errorf("no audiences: got %v, want a config error at auth.providers[0].jwt.audiences", err)
	}

	e := startAuth(t, func(c *configv1.Config, _ *authtest.Issuer) { c.Auth.Providers[0].GetJwt().Audiences = []string{"*"} })
	billing := e.iss.Token(t, authtest.Claims{"aud": "billing"})
	if a := restCall(t, e.URL, http.MethodGet, getBookPath, bearer(billing), ""); a.code != http.StatusOK {
		t.Errorf(`REST, audiences ["*"], a token for billing: got %d %s, want 200`, a.code, a.body)
	}
	if st, _ := grpcGetBook(t, e.Conn, "shelves/1/books/1", grpcBearer(billing)); st.Code() != codes.OK {
		t.Errorf(`gRPC, audiences ["*"], a token for billing: got %v, want OK`, st.Err())
	}
	e = startAuth(t, nil) // audiences [portico]
	if a := restCall(t, e.URL, http.MethodGet, getBookPath, bearer(e.iss.Token(t, authtest.Claims{"aud": "billing"})), ""); a.code != http.StatusUnauthorized {
		t.Errorf("REST, audiences [portico], a token for billing: got %d %s, want 401", a.code, a.body)
	}
}

// TestRegressExtAuthzCacheAcrossRequests (issue 14, point 2): with the
// default cache key an authorizer's yes for GET /legacy/orders/1 was
// replayed for DELETE /legacy/billing/export (a plain route is one
// method), and a yes for one book's path for another book's. Both doors:
// a decision is reused only for the same request.
func TestRegressExtAuthzCacheAcrossRequests(t *testing.T) {
	az := authtest.NewAuthorizer(t)
	az.SetDecide(func(r *authv3.CheckRequest) *authv3.CheckResponse {
		switch h := r.GetAttributes().GetRequest().GetHttp(); {
		case h.GetMethod() == "GET" && h.GetPath() == "/legacy/orders/1",
			h.GetMethod() == "GET" && h.GetPath() == "/v1/shelves/1/books/1",
			h.GetPath() == "/example.bookstore.v1.BookstoreService/GetBook":
			return authtest.Allow(nil)
		}
		return authtest.Deny(403, nil)
	})
	lb := startLegacy(t)
	env := servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
		withRoute(lb.URL, "/legacy/", false, nil)(c)
		c.Auth = &configv1.Auth{Providers: []*configv1.AuthProvider{{Name: "opa", Kind: &configv1.AuthProvider_External{External: &configv1.ExternalAuthorizer{
			Target: az.Addr, Timeout: durationpb.New(5 * time.Second), CacheTtl: durationpb.New(time.Hour)}}}}}
		c.Apis[0].Auth = &configv1.ApiAuth{Providers: []string{"opa"}}
		c.Routes[0].Auth = &configv1.ApiAuth{Providers: []string{"opa"}}
	}})
	creds := map[string]string{"Authorization": "Bearer alice"}
	for _, s := range []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/legacy/orders/1", http.StatusCreated},
		{http.MethodDelete, "/legacy/billing/export", http.StatusForbidden},
		{http.MethodGet, "/legacy/orders/1?fields=all", http.StatusForbidden},
		{http.MethodGet, "/v1/shelves/1/books/1", http.StatusOK},
		{http.MethodGet, "/v1/shelves/2/books/1", http.StatusForbidden},
	} {
		lb.mu.Lock()
		lb.last = nil
		lb.mu.Unlock()
		if a := restCall(t, env.URL, s.method, s.path, creds, ""); a.code != s.want {
			t.Errorf("REST %s %s: got %d %s, want %d", s.method, s.path, a.code, a.body, s.want)
		}
		if got, _ := lb.got(); s.want == http.StatusForbidden && got != nil {
			t.Errorf("REST %s %s: refused, but the backend received %s %s", s.method, s.path, got.Method, got.URL)
		}
	}
	client := bookstorev1.NewBookstoreServiceClient(env.Conn)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer alice")
	if _, err := client.GetBook(ctx, &bookstorev1.GetBookRequest{Name: "shelves/1/books/1"}); err != nil {
		t.Errorf("gRPC GetBook: %v", err)
	}
	if _, err := client.DeleteBook(ctx, &bookstorev1.DeleteBookRequest{Name: "shelves/1/books/1"}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("gRPC DeleteBook after an allowed GetBook: got %v, want PERMISSION_DENIED", err)
	}
}

// TestRegressAuthorizerCacheKeyedByNobody (issue 14, point 2, a sibling):
// an authorizer asked with no authenticating provider before it sees the
// principal "" for every caller, so a cache_key that tells callers apart
// by principal alone gave every caller the first one's decision. Such a
// config is refused at its key, as is a cache_key without the request.
func TestRegressAuthorizerCacheKeyedByNobody(t *testing.T) {
	az := authtest.NewAuthorizer(t)
	build := func(key []string) error {
		cfg := servertest.BookstoreConfig("127.0.0.1:1")
		cfg.Auth = &configv1.Auth{Providers: []*configv1.AuthProvider{{Name: "opa", Kind: &configv1.AuthProvider_External{External: &configv1.ExternalAuthorizer{
			Target: az.Addr, CacheTtl: durationpb.New(time.Hour), CacheKey: key}}}}}
		cfg.Apis[0].Auth = &configv1.ApiAuth{Providers: []string{"opa"}}
		snap, err := snapshot.Build(&config.File{Config: cfg, Dir: "."}, snapshot.Options{})
		if err == nil {
			snap.Close()
		}
		return err
	}
	if err := build([]string{"principal", "method", "http_method", "path"}); err == nil || !strings.Contains(err.Error(), "apis[0].auth.providers: ") {
		t.Errorf("cache_key by principal alone, no authenticator: got %v, want a config error at apis[0].auth.providers", err)
	}
	if err := build([]string{"principal", "method"}); err == nil || !strings.Contains(err.Error(), "auth.providers[0].external.cache_key: ") {
		t.Errorf("cache_key without the path: got %v, want a config error at auth.providers[0].external.cache_key", err)
	}
	if err := build([]string{"authorization", "method", "http_method", "path"}); err != nil {
		t.Errorf("cache_key by the authorization header: got %v, want none", err)
	}
}

// TestRegressBruteForceThrottled (issue 14, point 9): the rate-limit gate
// ran after authentication, so a refused call never reached the limiter
// and wrong API keys could be tried at line rate. client_ip limits now run
// before authentication: refused authentications count, and a client over
// its limit is refused (429, counted in portico_refusals_total) before
// its credentials are looked at — a right key included. Both doors.
func TestRegressBruteForceThrottled(t *testing.T) {
	dir := t.TempDir()
	keys := authtest.WriteFile(t, dir, "keys.yaml", []byte(fmt.Sprintf("- {id: k1, sha256: %s}\n", apikey.Hash("the-right-key"))))
	start := func(t *testing.T) *servertest.Env {
		return servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
			c.Telemetry = &configv1.Telemetry{Metrics: &configv1.Metrics{Prometheus: true}}
			c.Auth = &configv1.Auth{Providers: []*configv1.AuthProvider{{Name: "partners", Kind: &configv1.AuthProvider_ApiKey{ApiKey: &configv1.ApiKeyProvider{KeysFile: keys}}}}}
			c.Apis[0].Auth = &configv1.ApiAuth{Providers: []string{"partners"}}
			c.RateLimits = &configv1.RateLimits{Policies: []*configv1.RateLimitPolicy{{Name: "per-ip", Key: "client_ip", Rate: "3/h", Burst: 3}}}
			c.Apis[0].RateLimits = []string{"per-ip"}
		}})
	}
	refusals := func(t *testing.T, env *servertest.Env, door string, want map[string]float64) {
		t.Helper()
		var got map[string]float64
		// The gRPC door records a call when its stats handler sees the
		// end, which may come just after the client has its answer.
		deadline := time.Now().Add(10 * time.Second)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			families, _ := scrape(t, env.Server)
			got = map[string]float64{}
			for reason := range want {
				if m := series(t, families, "portico_refusals_total", map[string]string{"door": door, "reason": reason}); m != nil {
					got[reason] = m.GetCounter().GetValue()
				}
			}
			if fmt.Sprint(got) == fmt.Sprint(want) || time.Now().After(deadline) {
				break
			}
			<-tick.C
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s refusals: got %v, want %v", door, got, want)
		}
	}
	t.Run("REST", func(t *testing.T) {
		env := start(t)
		for i := 0; i < 3; i++ {
			if code, _ := restGetWith(t, env.URL+getBookPath, "X-Api-Key", fmt.Sprintf("guess-%d", i)); code != http.StatusUnauthorized {
				t.Fatalf("wrong key %d: got %d, want 401", i, code)
			}
		}
		before := env.Backend.Calls()
		if code, body := restGetWith(t, env.URL+getBookPath, "X-Api-Key", "the-right-key"); code != http.StatusTooManyRequests {
			t.Errorf("the right key after 3 refused ones: got %d %s, want 429 (the client is over its limit)", code, body)
		}
		if env.Backend.Calls() != before {
			t.Error("a throttled call reached the backend")
		}
		refusals(t, env, "rest", map[string]float64{"auth": 3, "rate_limit": 1})
	})
	t.Run("gRPC", func(t *testing.T) {
		env := start(t)
		for i := 0; i < 3; i++ {
			if st, _ := grpcGetBook(t, env.Conn, "shelves/1/books/1", map[string]string{"x-api-key": fmt.Sprintf("guess-%d", i)}); st.Code() != codes.Unauthenticated {
				t.Fatalf("wrong key %d: got %v, want UNAUTHENTICATED", i, st.Err())
			}
		}
		if st, _ := grpcGetBook(t, env.Conn, "shelves/1/books/1", map[string]string{"x-api-key": "the-right-key"}); st.Code() != codes.ResourceExhausted {
			t.Errorf("the right key after 3 refused ones: got %v, want RESOURCE_EXHAUSTED", st.Err())
		}
		refusals(t, env, "grpc", map[string]float64{"auth": 3, "rate_limit": 1})
	})
}

// restGetWith is GET url with one request header.
func restGetWith(t *testing.T, url, header, value string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set(header, value)
	resp, body := do(t, req)
	return resp.StatusCode, string(body)
}

// TestRegressCredentialsForwarded (issue 14, point 5): the credentials a
// provider consumed — Authorization, the API key's header or query
// parameter, the JWT cookie — went on to the backend, which could replay
// them. They stay at the gateway now, on both doors and through plain
// routes, unless the API or route says forward_credentials; other
// headers, cookies and query parameters still pass.
func TestRegressCredentialsForwarded(t *testing.T) {
	dir := t.TempDir()
	keys := authtest.WriteFile(t, dir, "keys.yaml", []byte(fmt.Sprintf("- {id: k1, sha256: %s}\n", apikey.Hash("the-key"))))
	lb := startLegacy(t)
	start := func(t *testing.T, forward bool) *authEnv {
		return startAuth(t, func(c *configv1.Config, _ *authtest.Issuer) {
			jwt := c.Auth.Providers[0].GetJwt()
			jwt.TokenSources = []*configv1.TokenSource{{Kind: &configv1.TokenSource_Cookie{Cookie: "session"}}}
			c.Auth.Providers = append(c.Auth.Providers, &configv1.AuthProvider{Name: "partners",
				Kind: &configv1.AuthProvider_ApiKey{ApiKey: &configv1.ApiKeyProvider{Header: "x-api-key", Query: "api_key", KeysFile: keys}}})
			c.Apis[0].Auth.Providers = []string{"corp", "partners"}
			c.Apis[0].ForwardCredentials = forward
			c.Rest = &configv1.Rest{ForwardHeaders: []string{"X-Api-Key"}} // the REST door passes it on as metadata
			withRoute(lb.URL, "/legacy/", false, nil)(c)
			c.Routes[0].Auth = &configv1.ApiAuth{Providers: []string{"corp", "partners"}}
			c.Routes[0].ForwardCredentials = forward
		})
	}
	for _, forward := range []bool{false, true} {
		t.Run(fmt.Sprintf("forward_credentials=%v", forward), func(t *testing.T) {
			e := start(t, forward)
			tok := e.iss.Token(t, nil)
			// What a backend may see of the credentials: nothing, unless forwarded.
			check := func(where, name string, got []string, sent string) {
				t.Helper()
				has := slices.ContainsFunc(got, func(v string) bool { return strings.Contains(v, sent) })
				if has != forward {
					t.Errorf("%s: %s: got %q; want the credential %s", where, name, got, map[bool]string{false: "dropped", true: "forwarded"}[forward])
				}
			}
			headers := map[string]string{"Authorization": "Bearer " + tok, "X-Api-Key": "the-key", "Cookie": "session=" + tok + "; theme=dark"}
			if a := restCall(t, e.URL, http.MethodGet, getBookPath, headers, ""); a.code != http.StatusOK {
				t.Fatalf("REST: got %d %s", a.code, a.body)
			}
			md := e.rec.lastMD()
			check("REST", "authorization", md.Get("authorization"), tok)
			check("REST", "grpcgateway-authorization", md.Get("grpcgateway-authorization"), tok)
			check("REST", "x-api-key", md.Get("x-api-key"), "the-key")
			check("REST", "grpcgateway-cookie", md.Get("grpcgateway-cookie"), tok)
			if got := md.Get("grpcgateway-cookie"); len(got) != 1 || !strings.Contains(got[0], "theme=dark") {
				t.Errorf("REST: grpcgateway-cookie: got %q, want the other cookie kept", got)
			}
			if got := md.Get("x-portico-principal"); len(got) != 1 || got[0] != "alice" {
				t.Errorf("REST: x-portico-principal: got %q, want [alice]", got)
			}

			grpcMD := map[string]string{"authorization": "Bearer " + tok, "x-api-key": "the-key", "cookie": "session=" + tok + "; theme=dark"}
			if st, _ := grpcGetBook(t, e.Conn, "shelves/1/books/1", grpcMD); st.Code() != codes.OK {
				t.Fatalf("gRPC: %v", st.Err())
			}
			md = e.rec.lastMD()
			check("gRPC", "authorization", md.Get("authorization"), tok)
			check("gRPC", "x-api-key", md.Get("x-api-key"), "the-key")
			check("gRPC", "cookie", md.Get("cookie"), tok)
			if got := md.Get("cookie"); len(got) != 1 || !strings.Contains(got[0], "theme=dark") {
				t.Errorf("gRPC: cookie: got %q, want the other cookie kept", got)
			}

			if a := restCall(t, e.URL, http.MethodGet, "/legacy/orders?api_key=the-key&page=2", headers, ""); a.code != http.StatusCreated {
				t.Fatalf("route: got %d %s", a.code, a.body)
			}
			got, _ := lb.got()
			check("route", "Authorization", got.Header.Values("Authorization"), tok)
			check("route", "X-Api-Key", got.Header.Values("X-Api-Key"), "the-key")
			check("route", "Cookie", got.Header.Values("Cookie"), tok)
			check("route", "query", []string{got.URL.RawQuery}, "api_key=the-key")
			if !strings.Contains(got.URL.RawQuery, "page=2") || !strings.Contains(got.Header.Get("Cookie"), "theme=dark") {
				t.Errorf("route: got query %q and Cookie %q, want page=2 and theme=dark kept", got.URL.RawQuery, got.Header.Get("Cookie"))
			}
		})
	}

	// An http integration serving proto methods gets headers from the
	// same metadata: the token does not reach it either.
	t.Run("http integration", func(t *testing.T) {
		got := make(chan http.Header, 1)
		backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got <- r.Header.Clone()
			io.WriteString(w, "{}")
		}))
		t.Cleanup(backend.Close)
		e := startAuth(t, func(c *configv1.Config, _ *authtest.Issuer) {
			c.Integrations = []*configv1.Integration{{Name: "legacy", Kind: &configv1.Integration_Http{Http: &configv1.HttpIntegration{Url: backend.URL}}}}
			c.Apis = []*configv1.Api{{Services: []string{messaging}, Integration: "legacy", Auth: &configv1.ApiAuth{Providers: []string{"corp"}}}}
		})
		tok := e.iss.Token(t, nil)
		if a := restCall(t, e.URL, http.MethodGet, "/v1/rooms/r1/messages/m1", bearer(tok), ""); a.code != http.StatusOK {
			t.Fatalf("REST: got %d %s", a.code, a.body)
		}
		if h := <-got; h.Get("Authorization") != "" || h.Get("X-Portico-Principal") != "alice" {
			t.Errorf("REST: the http backend got Authorization %q, principal %q; want none, alice", h.Get("Authorization"), h.Get("X-Portico-Principal"))
		}
		ctx := metadata.AppendToOutgoingContext(ctxT(t), "authorization", "Bearer "+tok)
		if _, err := messagingv1.NewMessagingServiceClient(e.Conn).GetMessage(ctx, &messagingv1.GetMessageRequest{Name: "rooms/r1/messages/m1"}); err != nil {
			t.Fatalf("gRPC: %v", err)
		}
		if h := <-got; h.Get("Authorization") != "" || h.Get("X-Portico-Principal") != "alice" {
			t.Errorf("gRPC: the http backend got Authorization %q, principal %q; want none, alice", h.Get("Authorization"), h.Get("X-Portico-Principal"))
		}
	})

	// A request mapping cannot list such a header without saying so.
	cfg := servertest.BookstoreConfig("127.0.0.1:1")
	iss := authtest.NewIssuer(t)
	cfg.Auth = &configv1.Auth{Providers: []*configv1.AuthProvider{jwtProvider(iss)}}
	cfg.Apis[0].Auth = &configv1.ApiAuth{Providers: []string{"corp"}}
	cfg.Apis[0].Request = &configv1.RequestMapping{ForwardHeaders: []string{"x-request-id", "Authorization"}}
	if _, err := snapshot.Build(&config.File{Config: cfg, Dir: "."}, snapshot.Options{}); err == nil || !strings.Contains(err.Error(), "apis[0].request.forward_headers[1]") {
		t.Errorf("forward_headers [authorization] without forward_credentials: got %v, want a config error at apis[0].request.forward_headers[1]", err)
	}
	cfg.Apis[0].ForwardCredentials = true
	snap, err := snapshot.Build(&config.File{Config: cfg, Dir: "."}, snapshot.Options{})
	if err != nil {
		t.Fatalf("forward_headers [authorization] with forward_credentials: %v", err)
	}
	snap.Close()
}

// TestRegressMappingForwardsAuthorizerHeaders (issue 14, point 4, a
// sibling): a request mapping that lists a header an authorizer sets
// (x-authz) or removes (x-authz-secret) in forward_headers read it from
// what the client sent, so a client's own X-Authz replaced the
// authorizer's and a removed header came back. The authorizer's decision
// is what the backend gets, on both doors.
func TestRegressMappingForwardsAuthorizerHeaders(t *testing.T) {
	az := authtest.NewAuthorizer(t)
	az.SetDecide(func(*authv3.CheckRequest) *authv3.CheckResponse {
		resp := authtest.Allow(map[string]string{"x-authz": "ok"})
		resp.GetOkResponse().HeadersToRemove = []string{"x-authz-secret"}
		return resp
	})
	e := startAuth(t, func(c *configv1.Config, _ *authtest.Issuer) {
		c.Auth.Providers = append(c.Auth.Providers, &configv1.AuthProvider{Name: "opa", Kind: &configv1.AuthProvider_External{
			External: &configv1.ExternalAuthorizer{Target: az.Addr, Timeout: durationpb.New(2 * time.Second)}}})
		c.Apis[0].Auth.Providers = []string{"corp", "opa"}
		c.Apis[0].Request = &configv1.RequestMapping{ForwardHeaders: []string{"x-authz", "x-authz-secret", "x-trace"}}
	})
	tok := e.iss.Token(t, authtest.Claims{"sub": "alice"})
	check := func(door string, md metadata.MD) {
		t.Helper()
		if got := md["x-authz"]; len(got) != 1 || got[0] != "ok" {
			t.Errorf("%s: the backend got x-authz %q, want the authorizer's [ok]", door, got)
		}
		if got := md["x-authz-secret"]; len(got) != 0 {
			t.Errorf("%s: the backend got x-authz-secret %q, want it removed by the authorizer", door, got)
		}
		if got := md["x-trace"]; len(got) != 1 || got[0] != "t1" {
			t.Errorf("%s: the backend got x-trace %q, want the client's [t1] (forwarded, no policy set it)", door, got)
		}
	}
	resp, body := rawRequest(t, e.URL, "GET", "/v1/shelves/1/books/1",
		"Authorization: Bearer "+tok, "X-Authz: forged", "X-Authz-Secret: s1", "X-Trace: t1")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("REST: got %d %s, want 200", resp.StatusCode, truncate(body))
	}
	check("REST", e.rec.lastMD())
	md := grpcBearer(tok)
	md["x-authz"], md["x-authz-secret"], md["x-trace"] = "forged", "s1", "t1"
	if st, _ := grpcGetBook(t, e.Conn, "shelves/1/books/1", md); st.Code() != codes.OK {
		t.Fatalf("gRPC: got %v, want OK", st.Err())
	}
	check("gRPC", e.rec.lastMD())
}

// TestRegressQueryCredentialBoundIntoMessage (issue 14, point 5, a
// sibling): an API key given as a query parameter was dropped from the
// metadata but still bound into the request message when the message has
// a field of that name, so the backend got the key inside the message.
// A consumed query parameter is bound into nothing, unless the API says
// forward_credentials.
func TestRegressQueryCredentialBoundIntoMessage(t *testing.T) {
	dir := t.TempDir()
	keys := authtest.WriteFile(t, dir, "keys.yaml", []byte(fmt.Sprintf("- {id: k1, sha256: %s}\n", apikey.Hash("the-key"))))
	for _, forward := range []bool{false, true} {
		e := startAuth(t, func(c *configv1.Config, _ *authtest.Issuer) {
			c.Auth.Providers = append(c.Auth.Providers, &configv1.AuthProvider{Name: "partners",
				Kind: &configv1.AuthProvider_ApiKey{ApiKey: &configv1.ApiKeyProvider{Query: "tags", KeysFile: keys}}})
			c.Apis[0].Auth.Providers = []string{"partners"}
			c.Apis[0].ForwardCredentials = forward
		})
		if a := restCall(t, e.URL, http.MethodGet, "/v1/shelves/1/books?tags=the-key&page_size=2", nil, ""); a.code != http.StatusOK {
			t.Fatalf("forward_credentials=%v: got %d %s, want 200", forward, a.code, a.body)
		}
		req, ok := e.rec.lastRequest().(*bookstorev1.ListBooksRequest)
		if !ok {
			t.Fatalf("forward_credentials=%v: the backend got %T, want a ListBooksRequest", forward, e.rec.lastRequest())
		}
		if got := slices.Contains(req.GetTags(), "the-key"); got != forward {
			t.Errorf("forward_credentials=%v: the backend's message has tags %q, want the key there: %v", forward, req.GetTags(), forward)
		}
		if req.GetPageSize() != 2 {
			t.Errorf("forward_credentials=%v: page_size %d, want 2 (other parameters still bound)", forward, req.GetPageSize())
		}
	}
}
