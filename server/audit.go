package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/portico-gw/portico/admin"
	"github.com/portico-gw/portico/config"
)

// AuditSink receives the gateway's own events for the audit trail
// (admin.audit_log): reloads with their outcome and config hashes,
// drains with the calls in flight. admin.Audit is one; the server
// writes to the one the admin listener opened.
type AuditSink interface {
	Write(admin.AuditEntry)
}

// triggerKey carries what started a reload or a drain.
type triggerKey struct{}

// WithTrigger names what starts the reload or drain run with ctx
// ("SIGHUP", "SIGTERM", "file watcher", "admin API"), for the audit log.
func WithTrigger(ctx context.Context, by string) context.Context {
	return context.WithValue(ctx, triggerKey{}, by)
}

func triggerOf(ctx context.Context) string {
	if by, ok := ctx.Value(triggerKey{}).(string); ok {
		return by
	}
	return "unknown"
}

// auditReload writes a reload's outcome: applied, or refused with a
// summary of why (the config's first problem and how many more; URLs'
// user info redacted).
func (s *Server) auditReload(ctx context.Context, before, after string, err error) {
	if s.audit == nil {
		return
	}
	e := admin.AuditEntry{By: triggerOf(ctx), Action: "reload", Target: "gateway", Outcome: "applied", ConfigBefore: before, ConfigAfter: after}
	if err != nil {
		e.Outcome = "refused"
		e.Message = config.RedactURLs(summary(err))
	}
	s.audit.Write(e)
}

// summary is err's first problem, and how many more a config error has.
func summary(err error) string {
	var ce config.Errors
	if errors.As(err, &ce) && len(ce) > 1 {
		return fmt.Sprintf("%s (and %d more)", ce[0].Error(), len(ce)-1)
	}
	return err.Error()
}

// auditDrain writes a drain's start or end with the calls in flight.
func (s *Server) auditDrain(ctx context.Context, outcome, message string) {
	if s.audit == nil {
		return
	}
	rest, grpc := s.InFlight()
	s.audit.Write(admin.AuditEntry{By: triggerOf(ctx), Action: "drain", Target: "gateway", Outcome: outcome, Message: message,
		InFlight: &admin.InFlight{REST: rest, GRPC: grpc}})
}
