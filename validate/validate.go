// Package validate is the pipeline's validation interceptor: request
// messages with buf.validate rules are checked by protovalidate before the
// backend is called. A failure is INVALID_ARGUMENT with the violations as
// google.rpc.BadRequest details (HTTP 400 on the REST door).
package validate

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"buf.build/go/protovalidate"
	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/pipeline"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Interceptor validates request messages. It is a pipeline policy: only
// methods whose request type carries rules get its interceptors.
type Interceptor struct {
	v protovalidate.Validator
}

var _ pipeline.Policy = (*Interceptor)(nil)

// Build is the validation policy kind: every method whose request type
// carries buf.validate rules is validated on both doors; the others run
// nothing. It has no settings of its own.
func Build(pipeline.Env) (pipeline.Policy, error) {
	ic, err := New()
	if err != nil {
		return nil, err
	}
	return ic, nil
}

// New prepares a validator.
func New() (*Interceptor, error) {
	v, err := protovalidate.New()
	if err != nil {
		return nil, fmt.Errorf("validate: %v", err)
	}
	return &Interceptor{v: v}, nil
}

// Stage returns the validation interceptors for m, or nothing when its
// request type has no rules. The rules are compiled now, so a bad rule is
// a build error, not a first-request error.
func (ic *Interceptor) Stage(m *catalog.Method) (pipeline.Stage, error) {
	if !HasRules(m.Input().Descriptor()) {
		return pipeline.Stage{}, nil
	}
	// Validating an empty message surfaces compilation errors (a
	// validation failure is fine here).
	err := ic.v.Validate(m.Input().New().Interface())
	var cerr *protovalidate.CompilationError
	if errors.As(err, &cerr) {
		return pipeline.Stage{}, fmt.Errorf("validate: %s: %v", m.Input().Descriptor().FullName(), err)
	}
	if u := updateMaskOf(m); u != nil {
		c := &masked{ic: ic, u: u}
		return pipeline.Stage{Unary: c.unary, Stream: c.stream, RequestOnly: true}, nil
	}
	return pipeline.Stage{Unary: ic.Unary, Stream: ic.Stream, RequestOnly: true}, nil
}

// masked validates a partial update (a request with an update_mask) only
// as far as its mask reaches: a PATCH no longer fails on fields it does not
// carry. The mask is the client's, or on the REST door the one derived
// from the JSON body's keys.
type masked struct {
	ic *Interceptor
	u  *updateMask
}

func (c *masked) unary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if err := c.ic.check(req, c.options(req)...); err != nil {
		refused(ctx)
		return nil, err
	}
	return h(ctx, req)
}

func (c *masked) stream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	return h(srv, &checkedStream{ServerStream: ss, ic: c.ic, opts: c.options})
}

func (c *masked) options(req any) []protovalidate.ValidationOption {
	msg, ok := req.(proto.Message)
	if !ok {
		return nil
	}
	if f := c.u.filter(msg.ProtoReflect()); f != nil {
		return []protovalidate.ValidationOption{protovalidate.WithFilter(f)}
	}
	return nil
}

// Unary validates the request of a unary or server-streaming call.
func (ic *Interceptor) Unary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if err := ic.check(req); err != nil {
		refused(ctx)
		return nil, err
	}
	return h(ctx, req)
}

// Stream validates every message the client sends on a stream.
func (ic *Interceptor) Stream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	return h(srv, &checkedStream{ServerStream: ss, ic: ic})
}

type checkedStream struct {
	grpc.ServerStream
	ic   *Interceptor
	opts func(req any) []protovalidate.ValidationOption // nil: none
}

func (s *checkedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	var opts []protovalidate.ValidationOption
	if s.opts != nil {
		opts = s.opts(m)
	}
	if err := s.ic.check(m, opts...); err != nil {
		refused(s.Context())
		return err
	}
	return nil
}

// refused records on the call that validation refused it.
func refused(ctx context.Context) {
	if info := call.FromContext(ctx); info != nil {
		info.Refusal = "validation"
	}
}

func (ic *Interceptor) check(req any, opts ...protovalidate.ValidationOption) error {
	msg, ok := req.(proto.Message)
	if !ok {
		return nil
	}
	err := ic.v.Validate(msg, opts...)
	if err == nil {
		return nil
	}
	var verr *protovalidate.ValidationError
	if !errors.As(err, &verr) {
		// A runtime error in a rule: the request cannot be judged.
		return status.Error(codes.InvalidArgument, "invalid request: rules could not be evaluated")
	}
	br := &errdetails.BadRequest{}
	parts := make([]string, 0, len(verr.Violations))
	for _, v := range verr.Violations {
		field := protovalidate.FieldPathString(v.Proto.GetField())
		desc := v.Proto.GetMessage()
		br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{
			Field:       field,
			Description: desc,
		})
		if field != "" {
			parts = append(parts, field+": "+desc)
		} else {
			parts = append(parts, desc)
		}
	}
	st := status.New(codes.InvalidArgument, "invalid request: "+strings.Join(parts, "; "))
	if withDetails, err := st.WithDetails(br); err == nil {
		st = withDetails
	}
	return st.Err()
}
