package auth

import (
	"context"
	"fmt"
	"strings"

	"github.com/portico-gw/portico/auth/rules"
	"github.com/portico-gw/portico/call"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// allow runs a rule over the call (and its request message, when req is
// set); false, or a rule that fails to evaluate, is PERMISSION_DENIED.
func (p *plan) allow(ctx context.Context, r *rules.Rule, info *call.Info, req proto.Message) error {
	in := &rules.Input{Method: p.method, Request: req}
	if id := info.Identity; id != nil {
		in.Claims = id.Claims
		in.Principal = id.Principal
	}
	if info.ClientIP.IsValid() {
		in.PeerIP = info.ClientIP.String()
	}
	if r.Uses(rules.VarHeaders) {
		in.Headers = func() map[string]string { return headerMap(info) }
	}
	ok, err := r.Eval(ctx, in)
	switch {
	case err != nil:
		return p.refuse(info, errDenied, fmt.Sprintf("rule %q: %v", r, err))
	case !ok:
		return p.refuse(info, errDenied, fmt.Sprintf("rule %q is false", r))
	}
	return nil
}

// headerMap is the headers variable: lower-cased names, first values.
func headerMap(info *call.Info) map[string]string {
	if info.HTTP != nil {
		m := make(map[string]string, len(info.HTTP.Header))
		for k, vs := range info.HTTP.Header {
			if len(vs) > 0 {
				m[strings.ToLower(k)] = vs[0]
			}
		}
		return m
	}
	m := make(map[string]string, len(info.MD))
	for k, vs := range info.MD {
		if len(vs) > 0 {
			m[k] = vs[0]
		}
	}
	return m
}

// unary authorizes a decoded unary (or server-streaming) request.
func (p *plan) unary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	if err := p.checkRequest(ctx, req); err != nil {
		return nil, err
	}
	return next(ctx, req)
}

// stream authorizes each message of a client stream as it is received;
// the first refusal ends the call.
func (p *plan) stream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, next grpc.StreamHandler) error {
	return next(srv, &authorizedStream{ServerStream: ss, p: p})
}

func (p *plan) checkRequest(ctx context.Context, req any) error {
	info := call.FromContext(ctx)
	if info == nil {
		return p.refuse(&call.Info{}, errDenied, "no call information")
	}
	msg, _ := req.(proto.Message)
	if msg == nil {
		return p.refuse(info, errDenied, fmt.Sprintf("request is a %T, not a message", req))
	}
	return p.allow(ctx, p.requestRule, info, msg)
}

type authorizedStream struct {
	grpc.ServerStream
	p *plan
}

func (s *authorizedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return s.p.checkRequest(s.Context(), m)
}
