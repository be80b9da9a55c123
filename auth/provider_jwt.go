package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/auth/jwt"
	"github.com/portico-gw/portico/call"
)

// jwtProvider authenticates bearer tokens of one issuer.
type jwtProvider struct {
	name     string
	verifier *jwt.Verifier
	sources  []tokenSource
	// forward maps claims to backend metadata names (lower-cased).
	forward [][2]string
}

// tokenSource is a place a token is read from.
type tokenSource struct {
	header, query, cookie string
	prefix                string
}

// bearer is the default source: Authorization: Bearer (RFC 6750), the
// authorization metadata on gRPC.
var bearer = tokenSource{header: "authorization", prefix: "Bearer "}

func (p *jwtProvider) providerName() string { return p.name }

func (p *jwtProvider) challenge(presented bool) string {
	if presented {
		return `Bearer ` + realm + `, error="invalid_token"`
	}
	return `Bearer ` + realm
}

func (p *jwtProvider) places() credentials {
	var c credentials
	for _, s := range p.sources {
		c.add(credentials{headers: []string{s.header}, queries: []string{s.query}, cookies: []string{s.cookie}})
	}
	return c
}

func (p *jwtProvider) authenticate(ctx context.Context, info *call.Info) (*call.Identity, error) {
	raw, found := p.token(info)
	if !found {
		return nil, errNoCredentials
	}
	tok, err := p.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	if tok.Subject == "" {
		return nil, fmt.Errorf("the token has no sub")
	}
	// The identity's maps are made once per verified token and shared by
	// the calls that present it: they are read, never changed.
	shared := tok.Memo(p.identity).(*call.Identity)
	id := *shared
	return &id, nil
}

// identity is what a verified token says about the caller.
func (p *jwtProvider) identity(tok *jwt.Token) any {
	id := &call.Identity{Provider: p.name, Principal: tok.Subject, Claims: tok.Claims}
	id.Metadata = make(map[string]string, len(p.forward)+1)
	id.Metadata[PrincipalHeader] = tok.Subject
	for _, f := range p.forward {
		if v, ok := claimText(tok.Claims[f[0]]); ok {
			id.Metadata[f[1]] = v
		}
	}
	return id
}

// token finds the token in the first source that has one.
func (p *jwtProvider) token(info *call.Info) (string, bool) {
	for _, s := range p.sources {
		var v string
		switch {
		case s.header != "":
			v = info.Header(s.header)
		case s.query != "" && info.HTTP != nil:
			v = info.HTTP.URL.Query().Get(s.query)
		case s.cookie != "":
			// REST, and browsers' gRPC-Web and Connect calls.
			v, _ = info.Cookie(s.cookie)
		}
		if v == "" {
			continue
		}
		if s.prefix != "" {
			if len(v) < len(s.prefix) || !strings.EqualFold(v[:len(s.prefix)], s.prefix) {
				continue
			}
			v = strings.TrimSpace(v[len(s.prefix):])
		}
		if v != "" {
			return v, true
		}
	}
	return "", false
}

// claimText is a claim as metadata text: strings as they are, numbers
// and booleans as JSON writes them, lists of strings comma-joined, other
// values as JSON. Values that are not printable ASCII are not forwarded.
func claimText(v any) (string, bool) {
	var s string
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		s = x
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		s = strconv.FormatBool(x)
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			t, ok := e.(string)
			if !ok {
				b, _ := json.Marshal(x)
				parts = []string{string(b)}
				break
			}
			parts = append(parts, t)
		}
		s = strings.Join(parts, ",")
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return "", false
		}
		s = string(b)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return "", false
		}
	}
	return s, true
}
