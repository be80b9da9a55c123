// Package extauthz asks an external authorizer speaking Envoy's
// envoy.service.auth.v3.Authorization/Check (OPA-Envoy and every other
// ext_authz server work unchanged), and caches its decisions — something
// Envoy does not do — keyed by the request attributes the operator names.
package extauthz

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/portico-gw/portico/call"
	"golang.org/x/sync/singleflight"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// Config is how to reach the authorizer and cache its decisions.
type Config struct {
	// Target is the authorizer's gRPC target.
	Target string
	// TLS to the authorizer; nil means plaintext.
	TLS *tls.Config
	// Timeout bounds one Check. Default 200ms.
	Timeout time.Duration
	// CacheTTL is how long a decision is reused; 0: not cached.
	CacheTTL time.Duration
	// CacheKey names the request attributes that key the cache: header
	// names and the Attr* names. Default DefaultCacheKey. Unless
	// ReuseAcrossRequests, it must hold what a decision depends on besides
	// the caller (RequestAttributes) and something that tells callers apart
	// (the principal or a header): see CheckCacheKey.
	CacheKey []string
	// ReuseAcrossRequests allows a CacheKey without RequestAttributes: the
	// operator says the authorizer decides on the caller alone, so its
	// answer for one request may be reused for another.
	ReuseAcrossRequests bool
	// CacheSize bounds the cached decisions. Default 10000.
	CacheSize int
	// FailOpen allows calls when the authorizer cannot answer (default:
	// they are denied).
	FailOpen bool
	// DialOptions are added to the connection's (tests: bufconn).
	DialOptions []grpc.DialOption
}

// DefaultCacheKey: the identity headers and the principal (who calls),
// and the request attributes the authorizer is shown (what is asked for:
// the gRPC method, the HTTP method, the path with its query, the host).
func DefaultCacheKey() []string {
	return []string{"authorization", "x-api-key", "cookie", AttrPrincipal, AttrMethod, AttrHTTPMethod, AttrPath, AttrHost}
}

// Attribute names a cache key may use besides header names.
const (
	AttrMethod     = "method"      // the gRPC method, the same on both doors
	AttrHTTPMethod = "http_method" // the HTTP method (POST on the gRPC door)
	AttrPath       = "path"        // the request path and query as sent (the gRPC method path on the gRPC door)
	AttrHost       = "host"        // the Host header or :authority
	AttrPrincipal  = "principal"   // the principal authenticated so far
	AttrClientIP   = "client_ip"   // the client's address
)

// RequestAttributes are what a cache key must hold, unless the operator
// allows reuse across requests: a decision on GET /orders/1 is not one on
// DELETE /billing/export, on either door.
func RequestAttributes() []string { return []string{AttrMethod, AttrHTTPMethod, AttrPath} }

// CheckCacheKey checks a cache key: every name is an attribute or a
// header name; unless reuse is allowed, it holds RequestAttributes and
// something that tells callers apart (the principal or a header).
func CheckCacheKey(key []string, reuseAcrossRequests bool) error {
	var missing []string
	caller := false
	for _, k := range key {
		if !validHeaderName(k) {
			return fmt.Errorf("%q is not an attribute or a header name", k)
		}
		switch strings.ToLower(k) {
		case AttrMethod, AttrHTTPMethod, AttrPath, AttrHost, AttrClientIP:
		default: // the principal, or a header
			caller = true
		}
	}
	if reuseAcrossRequests {
		return nil
	}
	for _, a := range RequestAttributes() {
		if !slices.ContainsFunc(key, func(k string) bool { return strings.EqualFold(k, a) }) {
			missing = append(missing, strconv.Quote(a))
		}
	}
	switch {
	case len(missing) > 0:
		return fmt.Errorf("leaves out %s: one request's decision would be reused for another (the authorizer sees the method, "+
			"path and query); add them, or set cache_key_allows_reuse_across_requests: true if the authorizer decides on the caller alone",
			strings.Join(missing, ", "))
	case !caller:
		return errors.New(`names no caller ("principal" or a header such as "authorization"): one caller's decision would be reused ` +
			`for another; add one, or set cache_key_allows_reuse_across_requests: true`)
	}
	return nil
}

// Client is a connection to an authorizer with its decision cache. It is
// safe for concurrent use and meant to be pooled, so a reload keeps both.
type Client struct {
	cfg    Config
	conn   *grpc.ClientConn
	client authv3.AuthorizationClient
	cache  *lru.Cache[cacheKey, entry]
	now    func() time.Time
	// canon are the CacheKey names as HTTP header keys.
	canon []string
	// flight makes concurrent misses of one key one Check.
	flight singleflight.Group
}

type entry struct {
	d     *Decision
	until time.Time
}

// New connects (lazily) to the authorizer. A bad configuration is an error.
func New(cfg Config) (*Client, error) {
	if cfg.Target == "" {
		return nil, errors.New("target is required")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 200 * time.Millisecond
	}
	if len(cfg.CacheKey) == 0 {
		cfg.CacheKey = DefaultCacheKey()
	}
	if err := CheckCacheKey(cfg.CacheKey, cfg.ReuseAcrossRequests || cfg.CacheTTL <= 0); err != nil {
		return nil, fmt.Errorf("cache_key: %w", err)
	}
	keys := make([]string, len(cfg.CacheKey))
	for i, k := range cfg.CacheKey {
		keys[i] = strings.ToLower(k)
	}
	cfg.CacheKey = keys
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = 10000
	}
	creds := insecure.NewCredentials()
	if cfg.TLS != nil {
		creds = credentials.NewTLS(cfg.TLS)
	}
	opts := append([]grpc.DialOption{grpc.WithTransportCredentials(creds)}, cfg.DialOptions...)
	conn, err := grpc.NewClient(cfg.Target, opts...)
	if err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg, conn: conn, client: authv3.NewAuthorizationClient(conn), now: time.Now}
	for _, k := range cfg.CacheKey {
		c.canon = append(c.canon, textproto.CanonicalMIMEHeaderKey(k))
	}
	if cfg.CacheTTL > 0 {
		if c.cache, err = lru.New[cacheKey, entry](cfg.CacheSize); err != nil {
			conn.Close()
			return nil, err
		}
	}
	return c, nil
}

// CallerByPrincipalOnly reports a cache that tells callers apart by the
// principal alone (no header in its key, reuse not allowed): then an
// authenticator must name the caller before the authorizer is asked, or
// every caller would get the first one's decision.
func (c *Client) CallerByPrincipalOnly() bool {
	if c.cache == nil || c.cfg.ReuseAcrossRequests {
		return false
	}
	for _, k := range c.cfg.CacheKey {
		switch k {
		case AttrMethod, AttrHTTPMethod, AttrPath, AttrHost, AttrClientIP, AttrPrincipal:
		default:
			return false // a header
		}
	}
	return true
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Decision is the authorizer's answer. It is shared (cached): read it,
// never change it.
type Decision struct {
	// Allowed is the verdict.
	Allowed bool
	// Headers go to the backend as metadata (allowed); Remove are
	// metadata names to drop.
	Headers [][2]string
	Remove  []string
	// ResponseHeaders go to the client with the answer (allowed: the
	// OK response's response_headers_to_add).
	ResponseHeaders [][2]string
	// Principal is set when the authorizer names the caller (an allowed
	// answer's x-portico-principal header).
	Principal string
	// Denied: the code and HTTP status for the client, and headers for
	// its response.
	Code          codes.Code
	HTTPStatus    int
	DeniedHeaders [][2]string
	// Reason says why, for the log.
	Reason string
}

// PrincipalHeader is the allowed-response header that names the caller.
const PrincipalHeader = "x-portico-principal"

// Check asks the authorizer about a call (or answers from the cache).
// principal is who the call is authenticated as so far ("" if nobody).
// An authorizer that does not answer in time, or fails, denies (allows
// with FailOpen); such decisions are not cached. cached reports a decision
// served from the cache.
func (c *Client) Check(ctx context.Context, info *call.Info, principal string) (d *Decision, cached bool) {
	var key cacheKey
	if c.cache != nil {
		key = c.key(info, principal)
		if e, ok := c.cache.Get(key); ok {
			if c.now().Before(e.until) {
				return e.d, true
			}
			c.cache.Remove(key)
		}
	}
	if c.cache == nil {
		return c.ask(ctx, info, principal, nil), false
	}
	// Calls that miss the same key at once share one Check, which no one
	// caller's cancellation ends (it is bounded by the timeout).
	v, _, _ := c.flight.Do(string(key[:]), func() (any, error) {
		return c.ask(context.WithoutCancel(ctx), info, principal, &key), nil
	})
	return v.(*Decision), false
}

// ask asks the authorizer, and caches what it answers under key (when
// not nil).
func (c *Client) ask(ctx context.Context, info *call.Info, principal string, key *cacheKey) *Decision {
	cctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	resp, err := c.client.Check(cctx, checkRequest(info, principal, c.now()))
	if err != nil {
		if ctx.Err() != nil {
			return &Decision{Code: codes.Canceled, Reason: "the call ended while the authorizer was asked"}
		}
		return &Decision{Allowed: c.cfg.FailOpen, Code: codes.PermissionDenied, HTTPStatus: http.StatusForbidden,
			Reason: fmt.Sprintf("authorizer %s did not answer (fail_open=%v): %v", c.cfg.Target, c.cfg.FailOpen, err)}
	}
	d := decide(resp)
	if key != nil {
		c.cache.Add(*key, entry{d: d, until: c.now().Add(c.cfg.CacheTTL)})
	}
	return d
}

// CachedDecisions is the number of decisions in the cache (tests, admin).
func (c *Client) CachedDecisions() int {
	if c.cache == nil {
		return 0
	}
	return c.cache.Len()
}

func validHeaderName(k string) bool {
	for i := 0; i < len(k); i++ {
		ch := k[i]
		if !('a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || '0' <= ch && ch <= '9' || ch == '-' || ch == '_' || ch == '.') {
			return false
		}
	}
	return k != ""
}
