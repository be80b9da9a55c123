package admin

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/catalog"
	adminv1 "github.com/portico-gw/portico/gen/portico/admin/v1"
	"github.com/portico-gw/portico/pipeline"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Audit appends one JSON line per change made through the admin API
// (admin.audit_log): every method that is not a read (its HTTP binding is
// not a GET: reload, drain, the API keys' create, update, rotate and
// revoke, and any change added later), and the listener's POST /reload.
// A line says when, who, what, on what and the outcome; never a request's
// or an answer's body, so never a secret.
//
// Who is the admin token's fingerprint (the first 12 hex digits of its
// SHA-256: it tells tokens apart across rotations without revealing
// anything), "none" when no token is configured (a loopback listener),
// the client certificate's subject when the client presented one, and the
// client's address. A change refused for a missing or wrong token is
// written too (outcome UNAUTHENTICATED, token "invalid").
type Audit struct {
	mu  sync.Mutex
	w   io.WriteCloser
	tok Token
	log *slog.Logger
	now func() time.Time
}

// AuditEntry is one line of the audit log.
//
// The gateway's own events (a reload, a drain: written by the server,
// whoever or whatever started them) have no token; By names what started
// them (SIGHUP, the file watcher, the admin API, SIGTERM), a reload its
// config hashes before and after, a drain the calls in flight.
type AuditEntry struct {
	Time     time.Time `json:"time"`
	Token    string    `json:"token,omitempty"`
	Cert     string    `json:"cert,omitempty"`
	ClientIP string    `json:"client_ip,omitempty"`
	By       string    `json:"by,omitempty"`
	Action   string    `json:"action"`
	Target   string    `json:"target,omitempty"`
	Outcome  string    `json:"outcome"`
	Message  string    `json:"message,omitempty"`
	// ConfigBefore and ConfigAfter are a reload's config hashes (After
	// is the one serving afterwards: Before when it was refused).
	ConfigBefore string `json:"config_before,omitempty"`
	ConfigAfter  string `json:"config_after,omitempty"`
	// InFlight are a drain's calls in flight on each door.
	InFlight *InFlight `json:"in_flight,omitempty"`
}

// InFlight counts calls in flight on each door.
type InFlight struct {
	REST int64 `json:"rest"`
	GRPC int64 `json:"grpc"`
}

// OpenAudit opens (creating it, mode 0600) the audit log at path for
// appending; tok is the admin token the identities are read against.
// Failures to write are logged to log.
func OpenAudit(path string, tok Token, log *slog.Logger) (*Audit, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("admin.audit_log: %v", err)
	}
	if log == nil {
		log = slog.Default()
	}
	return &Audit{w: f, tok: tok, log: log, now: time.Now}, nil
}

// Close closes the file. A nil Audit does nothing.
func (a *Audit) Close() error {
	if a == nil {
		return nil
	}
	return a.w.Close()
}

// Write appends e as one line. A nil Audit does nothing.
func (a *Audit) Write(e AuditEntry) {
	if a == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = a.now().UTC()
	}
	b, err := json.Marshal(e)
	if err != nil {
		a.log.Error("admin: audit log", "err", err)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, err := a.w.Write(append(b, '\n')); err != nil {
		a.log.Error("admin: writing the audit log failed", "action", e.Action, "target", e.Target, "err", err)
	}
}

// who fills the entry's identity from the call.
func (a *Audit) who(e *AuditEntry, info *call.Info) {
	e.Token = "none"
	if info == nil {
		return
	}
	if a.tok.Required() {
		e.Token = "invalid"
		if a.tok.Allows(info.Header("Authorization")) {
			e.Token = a.tok.Fingerprint()
		}
	}
	if info.ClientIP.IsValid() {
		e.ClientIP = info.ClientIP.String()
	}
	if info.TLS != nil && len(info.TLS.PeerCertificates) > 0 {
		e.Cert = info.TLS.PeerCertificates[0].Subject.String()
	}
}

// Policy audits the admin API's changes: first in the admin pipeline, so
// that a change the token refuses is written too.
func (a *Audit) Policy() pipeline.Policy {
	return pipeline.PolicyFunc(func(m *catalog.Method) (pipeline.Stage, error) {
		if a == nil || !isChange(m) {
			return pipeline.Stage{}, nil
		}
		action := string(m.Desc().Name())
		return pipeline.Stage{
			Gate: func(ctx context.Context, info *call.Info) (context.Context, error) {
				if a.tok.Required() && !a.tok.Allows(info.Header("Authorization")) {
					e := AuditEntry{Action: action, Outcome: codes.Unauthenticated.String()}
					a.who(&e, info)
					a.Write(e)
				}
				return ctx, nil
			},
			Unary: func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
				resp, err := next(ctx, req)
				e := AuditEntry{Action: action, Target: target(req, resp), Outcome: status.Code(err).String()}
				if err != nil {
					e.Message = status.Convert(err).Message()
				}
				a.who(&e, call.FromContext(ctx))
				a.Write(e)
				return resp, err
			},
		}, nil
	})
}

// Handler audits a plain handler of the admin listener (POST /reload) as
// action: its outcome is OK for a 2xx answer, else the HTTP status.
func (a *Audit) Handler(action string, h http.Handler) http.Handler {
	if a == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(sw, r)
		e := AuditEntry{Action: action, Outcome: "OK", Token: "none"}
		if sw.code/100 != 2 {
			e.Outcome = fmt.Sprintf("HTTP %d", sw.code)
		}
		if a.tok.Required() {
			e.Token = "invalid"
			if a.tok.Allows(r.Header.Get("Authorization")) {
				e.Token = a.tok.Fingerprint()
			}
		}
		e.ClientIP = r.RemoteAddr
		if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
			e.Cert = r.TLS.PeerCertificates[0].Subject.String()
		}
		a.Write(e)
	})
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

// isChange reports whether m changes something: a method whose HTTP
// binding is not a GET.
func isChange(m *catalog.Method) bool {
	for _, b := range m.Bindings() {
		if b.HTTPMethod != http.MethodGet {
			return true
		}
	}
	return false
}

// target names what a change is about: "provider/id" of an API key (from
// the answer, which names the provider and a made-up id, else from the
// request), "cache" and what a cache purge named, "gateway" for the
// others (reload, drain).
func target(req, resp any) string {
	if p, ok := req.(*adminv1.PurgeCacheRequest); ok {
		return strings.Join(slices.DeleteFunc([]string{"cache", p.GetMethod(), p.GetKeyPrefix()}, func(s string) bool { return s == "" }), " ")
	}
	for _, m := range []any{resp, req} {
		msg, ok := m.(proto.Message)
		if !ok || msg == nil {
			continue
		}
		r := msg.ProtoReflect()
		if !r.IsValid() {
			continue
		}
		if k := r.Descriptor().Fields().ByName("key"); k != nil && k.Message() != nil && r.Has(k) {
			r = r.Get(k).Message()
		}
		id, provider := stringField(r, "id"), stringField(r, "provider")
		if id != "" {
			return strings.TrimPrefix(provider+"/"+id, "/")
		}
	}
	return "gateway"
}

func stringField(m protoreflect.Message, name protoreflect.Name) string {
	f := m.Descriptor().Fields().ByName(name)
	if f == nil || f.Kind() != protoreflect.StringKind {
		return ""
	}
	return m.Get(f).String()
}

// Fingerprint names the token in the audit log: the first 12 hex digits
// of its SHA-256; "none" without a token.
func (t Token) Fingerprint() string {
	if !t.set {
		return "none"
	}
	return hex.EncodeToString(t.sum[:6])
}
