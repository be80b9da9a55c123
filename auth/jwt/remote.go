package jwt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/lestrrat-go/httprc/v3"
	"github.com/lestrrat-go/httprc/v3/errsink"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

// RemoteOptions say where a remote key set is and how it is kept fresh.
type RemoteOptions struct {
	// URL is the JWKS URL (jwks_uri). Empty with Discovery.
	URL string
	// Discovery finds the JWKS URL in
	// {Issuer}/.well-known/openid-configuration.
	Discovery bool
	Issuer    string
	// HTTPClient fetches documents. Default: a client with a 10s timeout.
	HTTPClient *http.Client
	// MinRefresh and MaxRefresh bound the background refresh interval the
	// JWKS response's Cache-Control max-age (or Expires) asks for.
	// Defaults 5m and 24h.
	MinRefresh, MaxRefresh time.Duration
	// RefetchInterval is the least time between two fetches caused by
	// tokens naming an unknown key ID (or by calls arriving before any key
	// is known): a flood of made-up kids costs the IdP one fetch per
	// interval. Default 30s.
	RefetchInterval time.Duration
	// WaitFirst is how long a call waits for the first key set after
	// start. Default 5s.
	WaitFirst time.Duration
	// Logger receives fetch failures. Default slog.Default().
	Logger *slog.Logger
}

// RemoteKeys is a key set fetched over HTTP(S), cached, refreshed in the
// background (jwx's jwk.Cache, which keeps the last good set when a fetch
// fails), and refetched on demand at most once per RefetchInterval.
// It is meant to be pooled: it outlives the snapshots that use it.
type RemoteKeys struct {
	opts   RemoteOptions
	ctx    context.Context
	cancel context.CancelFunc
	cache  *jwk.Cache
	// url is the JWKS URL once known; ready is closed then (at once
	// without discovery).
	url   string
	ready chan struct{}
	// found is closed when discovery ends, successfully or not (Close).
	found chan struct{}

	mu       sync.Mutex
	last     time.Time // start of the last on-demand fetch
	inflight *refetch
}

type refetch struct {
	done chan struct{}
	set  jwk.Set
	ok   bool
}

// NewRemoteKeys starts keeping a remote key set. It does not wait for the
// first fetch: an IdP that is down when the gateway starts delays calls,
// it does not stop the gateway.
func NewRemoteKeys(opts RemoteOptions) (*RemoteKeys, error) {
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.MinRefresh <= 0 {
		opts.MinRefresh = 5 * time.Minute
	}
	if opts.MaxRefresh <= 0 {
		opts.MaxRefresh = 24 * time.Hour
	}
	if opts.MaxRefresh < opts.MinRefresh {
		opts.MaxRefresh = opts.MinRefresh
	}
	if opts.RefetchInterval <= 0 {
		opts.RefetchInterval = 30 * time.Second
	}
	if opts.WaitFirst <= 0 {
		opts.WaitFirst = 5 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.URL == "" && !(opts.Discovery && opts.Issuer != "") {
		return nil, errors.New("a JWKS URL, or discovery and an issuer, is required")
	}
	ctx, cancel := context.WithCancel(context.Background())
	log := opts.Logger.With("jwks", opts.URL, "issuer", opts.Issuer)
	cache, err := jwk.NewCache(ctx, httprc.NewClient(
		httprc.WithWorkers(1),
		httprc.WithErrorSink(errsink.NewSlog(log)),
	))
	if err != nil {
		cancel()
		return nil, err
	}
	k := &RemoteKeys{opts: opts, ctx: ctx, cancel: cancel, cache: cache, ready: make(chan struct{}), found: make(chan struct{})}
	if opts.URL != "" {
		err := k.register(opts.URL)
		close(k.found) // before Close, which waits for it
		if err != nil {
			k.Close()
			return nil, err
		}
		return k, nil
	}
	go k.discover(log)
	return k, nil
}

// register starts the background refresh of url.
func (k *RemoteKeys) register(url string) error {
	opts := []jwk.RegisterOption{
		jwk.WithWaitReady(false),
		jwk.WithMinInterval(k.opts.MinRefresh),
		jwk.WithMaxInterval(k.opts.MaxRefresh),
		jwk.WithHTTPClient(k.opts.HTTPClient),
	}
	for _, o := range parseOptions() {
		opts = append(opts, o)
	}
	if err := k.cache.Register(k.ctx, url, opts...); err != nil {
		return fmt.Errorf("jwks %s: %v", url, err)
	}
	k.url = url
	close(k.ready)
	return nil
}

// discover reads the OpenID configuration (go-oidc checks that it names
// the configured issuer), retrying with backoff until it succeeds or the
// keys are closed.
func (k *RemoteKeys) discover(log *slog.Logger) {
	defer close(k.found)
	backoff := time.Second
	for {
		url, err := k.jwksURL()
		if err == nil {
			if err = k.register(url); err == nil {
				return
			}
		}
		log.Warn("auth: OpenID discovery failed", "err", err, "retry_in", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-k.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(backoff*2, time.Minute)
	}
}

func (k *RemoteKeys) jwksURL() (string, error) {
	ctx, cancel := context.WithTimeout(oidc.ClientContext(k.ctx, k.opts.HTTPClient), 10*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(ctx, k.opts.Issuer)
	if err != nil {
		return "", err
	}
	var doc struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := p.Claims(&doc); err != nil {
		return "", err
	}
	if doc.JWKSURI == "" {
		return "", errors.New("the OpenID configuration has no jwks_uri")
	}
	return doc.JWKSURI, nil
}

// Set returns the current key set, waiting up to WaitFirst (and ctx) for
// discovery and the first fetch; when there is still no set, it asks for
// one (Refetch's bound applies).
func (k *RemoteKeys) Set(ctx context.Context) (jwk.Set, error) {
	select {
	case <-k.ready:
		if set := k.current(); set != nil {
			return set, nil
		}
	default:
	}
	wctx, cancel := context.WithTimeout(ctx, k.opts.WaitFirst)
	defer cancel()
	select {
	case <-k.ready:
	case <-wctx.Done():
		return nil, errors.New("the JWKS URL is not known yet (OpenID discovery has not succeeded)")
	}
	if r, err := k.cache.LookupResource(wctx, k.url); err == nil {
		if r.Ready(wctx) == nil {
			return r.Resource(), nil
		}
	}
	if set, ok := k.Refetch(ctx); ok {
		return set, nil
	}
	return nil, errors.New("no key set fetched yet")
}

func (k *RemoteKeys) current() jwk.Set {
	r, err := k.cache.LookupResource(k.ctx, k.url)
	if err != nil {
		return nil
	}
	return r.Resource()
}

// Refetch fetches the key set now, unless an on-demand fetch started less
// than RefetchInterval ago; calls that arrive while one is running wait
// for it. The fetch is not tied to ctx: one caller giving up does not
// cancel it for the others.
func (k *RemoteKeys) Refetch(ctx context.Context) (jwk.Set, bool) {
	select {
	case <-k.ready:
	default:
		return nil, false
	}
	k.mu.Lock()
	f := k.inflight
	if f == nil {
		if !k.last.IsZero() && time.Since(k.last) < k.opts.RefetchInterval {
			k.mu.Unlock()
			return nil, false
		}
		f = &refetch{done: make(chan struct{})}
		k.inflight = f
		k.last = time.Now()
		go k.runRefetch(f)
	}
	k.mu.Unlock()
	select {
	case <-f.done:
		return f.set, f.ok
	case <-ctx.Done():
		return nil, false
	}
}

func (k *RemoteKeys) runRefetch(f *refetch) {
	ctx, cancel := context.WithTimeout(k.ctx, k.opts.HTTPClient.Timeout+time.Second)
	defer cancel()
	set, err := k.cache.Refresh(ctx, k.url)
	if err != nil {
		k.opts.Logger.Warn("auth: JWKS fetch failed; keeping the keys known so far", "jwks", k.url, "err", err)
	} else {
		f.set, f.ok = set, true
	}
	k.mu.Lock()
	k.inflight = nil
	k.mu.Unlock()
	close(f.done)
}

// Close stops the background refresh.
func (k *RemoteKeys) Close() error {
	k.cancel()
	<-k.found
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return k.cache.Shutdown(ctx)
}
