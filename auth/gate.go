package auth

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/portico-gw/portico/auth/extauthz"
	"github.com/portico-gw/portico/auth/rules"
	"github.com/portico-gw/portico/call"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// plan is one method's compiled policy: who may authenticate it, which
// authorizers are asked, and the rule split in two — what can be decided
// on headers (run in the gate, before the body is read) and what reads the
// request message (run after decoding).
type plan struct {
	method         string // full name, e.g. example.bookstore.v1.BookstoreService.GetBook
	authenticators []authenticator
	externals      []*externalProvider
	gateRule       *rules.Rule
	requestRule    *rules.Rule
	// creds are where the authenticators read credentials from, dropped
	// from what the backend gets; nil when the API or route forwards them.
	creds *credentials
	log   *slog.Logger
}

// The answers: the body never says why (the log does).
var (
	errUnauthenticated = status.Error(codes.Unauthenticated, "unauthenticated")
	errDenied          = status.Error(codes.PermissionDenied, "permission denied")
)

// Refusal is what call.Info.Refusal says for calls auth refused.
const Refusal = "auth"

// gate authenticates the call, asks the authorizers, runs the rule when it
// does not read the request, and hands the backend the caller's identity.
func (p *plan) gate(ctx context.Context, info *call.Info) (context.Context, error) {
	var id *call.Identity
	if len(p.authenticators) > 0 {
		var reasons []string
		presented := make([]bool, len(p.authenticators))
		for i, a := range p.authenticators {
			got, err := a.authenticate(ctx, info)
			if err == nil {
				id = got
				break
			}
			if err != errNoCredentials {
				presented[i] = true
				reasons = append(reasons, a.providerName()+": "+err.Error())
			}
		}
		if id == nil {
			challenges := make([]string, 0, len(p.authenticators))
			for i, a := range p.authenticators {
				if c := a.challenge(presented[i]); c != "" && !contains(challenges, c) {
					challenges = append(challenges, c)
				}
			}
			info.SetResponseHeader("WWW-Authenticate", strings.Join(challenges, ", "))
			reason := "no credentials"
			if len(reasons) > 0 {
				reason = strings.Join(reasons, "; ")
			}
			return nil, p.refuse(info, errUnauthenticated, reason)
		}
	}
	var adds [][2]string
	var removes []string
	for _, x := range p.externals {
		principal := ""
		if id != nil {
			principal = id.Principal
		}
		d, _ := x.client.Check(ctx, info, principal)
		if !d.Allowed {
			return nil, p.refuse(info, externalRefusal(info, d), x.name+": "+d.Reason)
		}
		adds = append(adds, d.Headers...)
		removes = append(removes, d.Remove...)
		for _, h := range d.ResponseHeaders {
			info.SetResponseHeader(h[0], h[1])
		}
		if id == nil {
			id = &call.Identity{Provider: x.name, Principal: d.Principal}
		}
	}
	info.Identity = id
	if p.gateRule != nil {
		if err := p.allow(ctx, p.gateRule, info, nil); err != nil {
			return nil, err
		}
	}
	return withIdentity(ctx, id, adds, removes, p.creds), nil
}

// externalRefusal is the answer to a call an authorizer denied: its
// status and headers, with the usual bodies.
func externalRefusal(info *call.Info, d *extauthz.Decision) error {
	for _, h := range d.DeniedHeaders {
		info.SetResponseHeader(h[0], h[1])
	}
	var st *status.Status
	switch d.Code {
	case codes.Unauthenticated:
		st = status.New(codes.Unauthenticated, "unauthenticated")
	case codes.Canceled:
		return status.Error(codes.Canceled, "call cancelled")
	default:
		st = status.New(d.Code, "permission denied")
	}
	def := http.StatusForbidden
	switch d.Code {
	case codes.Unauthenticated:
		def = http.StatusUnauthorized
	case codes.ResourceExhausted:
		def = http.StatusTooManyRequests
	}
	if d.HTTPStatus != 0 && d.HTTPStatus != def {
		return call.WithHTTPStatus(d.HTTPStatus, st)
	}
	return st.Err()
}

// refuse records a refusal: the call's Refusal, the reason in the log.
func (p *plan) refuse(info *call.Info, err error, reason string) error {
	info.Refusal = Refusal
	principal := ""
	if info.Identity != nil {
		principal = info.Identity.Principal
	}
	p.log.Info("auth: call refused",
		"method", p.method, "door", info.Door.String(), "client", info.ClientIP.String(),
		"principal", principal, "code", status.Code(err).String(), "reason", reason)
	return err
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
