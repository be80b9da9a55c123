package admin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/pipeline"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ReadToken reads the admin token from a file: its content without the
// surrounding white space, which must not be empty.
func ReadToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("admin.token_file: %v", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("admin.token_file: %s is empty", path)
	}
	if strings.ContainsAny(tok, " \t\r\n") {
		return "", fmt.Errorf("admin.token_file: %s holds white space inside the token", path)
	}
	return tok, nil
}

// Token checks the admin token. The zero Token (no token configured)
// lets every call through.
type Token struct {
	sum [sha256.Size]byte
	set bool
}

// NewToken checks calls against tok; "" checks nothing.
func NewToken(tok string) Token {
	if tok == "" {
		return Token{}
	}
	return Token{sum: sha256.Sum256([]byte(tok)), set: true}
}

// Required reports whether a token is configured.
func (t Token) Required() bool { return t.set }

// Allows reports whether an Authorization value carries the token
// ("Bearer <token>"). The comparison takes the same time whatever the
// value (both sides are hashed first, so not even the length leaks).
func (t Token) Allows(authorization string) bool {
	if !t.set {
		return true
	}
	const prefix = "bearer "
	if len(authorization) < len(prefix) || !strings.EqualFold(authorization[:len(prefix)], prefix) {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(authorization[len(prefix):])))
	return subtle.ConstantTimeCompare(got[:], t.sum[:]) == 1
}

// challenge is the WWW-Authenticate of a refusal.
const challenge = `Bearer realm="portico-admin"`

// Policy is the pipeline policy that guards every admin method with the
// token (a gate: a refused call is not decoded). It does nothing when no
// token is configured.
func (t Token) Policy() pipeline.Policy {
	return pipeline.PolicyFunc(func(*catalog.Method) (pipeline.Stage, error) {
		if !t.set {
			return pipeline.Stage{}, nil
		}
		return pipeline.Stage{Gate: func(ctx context.Context, info *call.Info) (context.Context, error) {
			if t.Allows(info.Header("Authorization")) {
				return ctx, nil
			}
			info.Refusal = "auth"
			info.SetResponseHeader("WWW-Authenticate", challenge)
			return nil, status.Error(codes.Unauthenticated, "the admin API needs the admin token (Authorization: Bearer <token>)")
		}}, nil
	})
}

// Handler guards a plain HTTP handler of the admin listener (/metrics)
// with the token: 401 with a JSON error body without it.
func (t Token) Handler(h http.Handler) http.Handler {
	if !t.set {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if t.Allows(r.Header.Get("Authorization")) {
			h.ServeHTTP(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", challenge)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusUnauthorized)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"code":    int(codes.Unauthenticated),
			"message": "the admin listener needs the admin token (Authorization: Bearer <token>)",
			"details": []any{},
		})
	})
}
