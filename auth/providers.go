package auth

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/portico-gw/portico/auth/apikey"
	"github.com/portico-gw/portico/auth/extauthz"
	"github.com/portico-gw/portico/auth/jwt"
	"github.com/portico-gw/portico/config"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/pool"
)

// DefaultClockSkew is the tolerance on exp, nbf and iat when the config
// sets none.
const DefaultClockSkew = 60 * time.Second

// metadataName: what a forwarded claim or token header may be called.
var metadataName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)

// provider is a built auth.providers entry: an authenticator or an
// external authorizer.
type provider struct {
	auth     authenticator
	external *externalProvider
}

// buildProviders makes every auth.providers entry. Problems are collected
// with their key paths.
func (b *builder) buildProviders() {
	b.providers = map[string]provider{}
	for i, pc := range b.env.Config.GetAuth().GetProviders() {
		where := fmt.Sprintf("auth.providers[%d]", i)
		name := pc.GetName()
		if _, dup := b.providers[name]; dup {
			b.fail(where+".name", fmt.Sprintf("provider %q is defined twice", name))
			continue
		}
		var p provider
		var err error
		switch k := pc.GetKind().(type) {
		case *configv1.AuthProvider_Jwt:
			where += ".jwt"
			p.auth, err = b.jwtProvider(name, where, k.Jwt)
		case *configv1.AuthProvider_ApiKey:
			where += ".api_key"
			p.auth, err = b.apiKeyProvider(name, where, k.ApiKey)
		case *configv1.AuthProvider_Mtls:
			where += ".mtls"
			if b.env.Config.GetTls().GetClientCaFile() == "" {
				err = errors.New("client certificates need tls.client_ca_file")
			}
			p.auth = &mtlsProvider{name: name}
		case *configv1.AuthProvider_External:
			where += ".external"
			p.external, err = b.externalProvider(name, where, k.External)
		default:
			err = errors.New("set one of jwt, api_key, mtls, external")
		}
		if err != nil {
			var ce config.Errors
			if errors.As(err, &ce) {
				b.problems = append(b.problems, ce...)
			} else {
				b.fail(where, err.Error())
			}
			continue
		}
		b.providers[name] = p
	}
}

// AnyAudience, alone in a jwt provider's audiences, accepts a token
// whatever its aud says: the explicit opt-out from the audience check.
const AnyAudience = "*"

func (b *builder) jwtProvider(name, where string, c *configv1.JwtProvider) (*jwtProvider, error) {
	// Checked first, before any key set is fetched.
	audiences, err := jwtAudiences(where, c.GetAudiences())
	if err != nil {
		return nil, err
	}
	var keys jwt.Keys
	set := 0
	for _, on := range []bool{c.GetJwksUri() != "", c.GetJwksFile() != "", c.GetDiscovery()} {
		if on {
			set++
		}
	}
	if set != 1 {
		return nil, errors.New("set exactly one of jwks_uri, jwks_file, discovery")
	}
	switch {
	case c.GetJwksFile() != "":
		k, err := jwt.ReadKeysFile(b.env.Resolve(c.GetJwksFile()))
		if err != nil {
			return nil, config.Errors{{Field: where + ".jwks_file", Message: err.Error()}}
		}
		keys = k
	case b.env.Check:
		keys = &jwt.StaticKeys{} // a check fetches nothing; its snapshot verifies no token
	default:
		opts := jwt.RemoteOptions{URL: c.GetJwksUri(), Discovery: c.GetDiscovery(), Issuer: c.GetIssuer(), Logger: b.env.Logger}
		poolKey := fmt.Sprintf("auth/jwks\x00%s\x00%v\x00%s", opts.URL, opts.Discovery, opts.Issuer)
		k, lease, err := pool.Acquire(b.env.Pool, poolKey, func() (*jwt.RemoteKeys, error) {
			return jwt.NewRemoteKeys(opts)
		})
		if err != nil {
			return nil, err
		}
		b.leases = append(b.leases, lease)
		keys = k
	}
	skew := DefaultClockSkew
	if c.ClockSkew != nil {
		skew = c.GetClockSkew().AsDuration()
	}
	v, err := jwt.New(jwt.Config{
		Issuer:     c.GetIssuer(),
		Audiences:  audiences,
		Algorithms: c.GetAlgorithms(),
		ClockSkew:  skew,
		Keys:       keys,
		Now:        b.env.Now,
	})
	if err != nil {
		return nil, err
	}
	p := &jwtProvider{name: name, verifier: v}
	for i, ts := range c.GetTokenSources() {
		src := tokenSource{prefix: ts.GetPrefix()}
		switch k := ts.GetKind().(type) {
		case *configv1.TokenSource_Header:
			src.header = strings.ToLower(k.Header)
		case *configv1.TokenSource_Query:
			src.query = k.Query
		case *configv1.TokenSource_Cookie:
			src.cookie = k.Cookie
		}
		if src.header == "" && src.query == "" && src.cookie == "" {
			return nil, config.Errors{{Field: fmt.Sprintf("%s.token_sources[%d]", where, i), Message: "set one of header, query, cookie"}}
		}
		p.sources = append(p.sources, src)
	}
	if !slices.Contains(p.sources, bearer) {
		p.sources = append([]tokenSource{bearer}, p.sources...)
	}
	claims := make([]string, 0, len(c.GetForwardClaims()))
	for claim := range c.GetForwardClaims() {
		claims = append(claims, claim)
	}
	sort.Strings(claims)
	for _, claim := range claims {
		md := strings.ToLower(c.GetForwardClaims()[claim])
		if !metadataName.MatchString(md) || strings.HasPrefix(md, "grpc-") || md == "authorization" {
			return nil, config.Errors{{Field: where + ".forward_claims." + claim, Message: fmt.Sprintf("%q cannot be a backend metadata name", md)}}
		}
		p.forward = append(p.forward, [2]string{claim, md})
	}
	return p, nil
}

// jwtAudiences checks a jwt provider's audiences: the aud values the
// gateway accepts must be listed (an issuer's token for another service
// would pass otherwise), or ["*"] says any will do. It returns what the
// verifier checks: nil for any.
func jwtAudiences(where string, auds []string) ([]string, error) {
	switch {
	case len(auds) == 0:
		return nil, config.Errors{{Field: where + ".audiences", Message: `required: the aud values of tokens meant for this gateway ` +
			`(a token the issuer made for another service must not pass); ["*"] accepts any audience`}}
	case slices.Contains(auds, AnyAudience):
		if len(auds) > 1 {
			return nil, config.Errors{{Field: where + ".audiences", Message: `"*" accepts any audience: list it alone, or list the audiences without it`}}
		}
		return nil, nil
	}
	for i, a := range auds {
		if a == "" {
			return nil, config.Errors{{Field: fmt.Sprintf("%s.audiences[%d]", where, i), Message: "an empty audience matches no token"}}
		}
	}
	return auds, nil
}

func (b *builder) apiKeyProvider(name, where string, c *configv1.ApiKeyProvider) (*apiKeyProvider, error) {
	p := &apiKeyProvider{name: name, header: strings.ToLower(c.GetHeader()), query: c.GetQuery()}
	if p.header == "" && p.query == "" {
		p.header = "x-api-key"
	}
	if p.header != "" && !metadataName.MatchString(p.header) {
		return nil, config.Errors{{Field: where + ".header", Message: fmt.Sprintf("%q is not a header name", c.GetHeader())}}
	}
	if c.GetKeysFile() == "" && c.GetStore() == "" {
		return nil, config.Errors{{Field: where, Message: "set keys_file, store: redis, or both"}}
	}
	if c.GetKeysFile() != "" {
		keys, err := apikey.Load(b.env.Resolve(c.GetKeysFile()))
		if err != nil {
			return nil, config.Errors{{Field: where + ".keys_file", Message: err.Error()}}
		}
		p.keys = keys
	}
	if c.GetStore() == "redis" {
		store, err := b.keyStore(name, where, c.GetRedis())
		if err != nil {
			return nil, err
		}
		p.managed = store
	}
	return p, nil
}

func (b *builder) externalProvider(name, where string, c *configv1.ExternalAuthorizer) (*externalProvider, error) {
	var tlsConf *tls.Config
	if t := c.GetTls(); t != nil {
		var err error
		if tlsConf, err = b.clientTLS(t); err != nil {
			return nil, config.Errors{{Field: where + ".tls", Message: err.Error()}}
		}
	}
	cfg := extauthz.Config{
		Target:              c.GetTarget(),
		TLS:                 tlsConf,
		Timeout:             c.GetTimeout().AsDuration(),
		CacheTTL:            c.GetCacheTtl().AsDuration(),
		CacheKey:            c.GetCacheKey(),
		ReuseAcrossRequests: c.GetCacheKeyAllowsReuseAcrossRequests(),
		CacheSize:           int(c.GetCacheSize()),
		FailOpen:            c.GetFailOpen(),
		DialOptions:         b.env.DialOptions,
	}
	if c.Timeout == nil {
		cfg.Timeout = 0 // the package default
	}
	if len(cfg.CacheKey) > 0 {
		if err := extauthz.CheckCacheKey(cfg.CacheKey, cfg.ReuseAcrossRequests || cfg.CacheTTL <= 0); err != nil {
			return nil, config.Errors{{Field: where + ".cache_key", Message: err.Error()}}
		}
	}
	t := c.GetTls()
	poolKey := fmt.Sprintf("auth/extauthz\x00%s\x00%s\x00%s\x00%s\x00%s\x00%v\x00%v\x00%v\x00%v\x00%d\x00%v",
		cfg.Target, t.GetCaFile(), t.GetCertFile(), t.GetKeyFile(), t.GetServerName(),
		cfg.Timeout, cfg.CacheTTL, cfg.CacheKey, cfg.ReuseAcrossRequests, cfg.CacheSize, cfg.FailOpen)
	client, lease, err := pool.Acquire(b.env.Pool, poolKey, func() (*extauthz.Client, error) {
		return extauthz.New(cfg)
	})
	if err != nil {
		return nil, err
	}
	b.leases = append(b.leases, lease)
	return &externalProvider{name: name, client: client}, nil
}

// clientTLS is TLS from the gateway to a service it asks.
func (b *builder) clientTLS(t *configv1.ClientTlsRef) (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.GetServerName()}
	if f := t.GetCaFile(); f != "" {
		pem, err := os.ReadFile(b.env.Resolve(f))
		if err != nil {
			return nil, err
		}
		conf.RootCAs = x509.NewCertPool()
		if !conf.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s holds no PEM certificate", f)
		}
	}
	if (t.GetCertFile() == "") != (t.GetKeyFile() == "") {
		return nil, errors.New("cert_file and key_file go together")
	}
	if t.GetCertFile() != "" {
		cert, err := tls.LoadX509KeyPair(b.env.Resolve(t.GetCertFile()), b.env.Resolve(t.GetKeyFile()))
		if err != nil {
			return nil, err
		}
		conf.Certificates = []tls.Certificate{cert}
	}
	return conf, nil
}
