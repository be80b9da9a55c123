package bookstore

import (
	"context"
	"strconv"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Metadata keys the bookstore reacts to, so that gateway tests can check how
// headers, trailers, errors and deadlines travel through Portico.
const (
	// EchoKey: every value of this request metadata key is sent back as a
	// response header of the same name.
	EchoKey = "x-echo"
	// FailKey: a gRPC code, as a number ("5") or a name ("NOT_FOUND"); the
	// method fails with that code, the message FailMessage and an
	// errdetails.ErrorInfo{Reason: FailReason, Domain: FailDomain}. "0" or
	// "OK" does not fail. A value that is neither is InvalidArgument.
	FailKey = "x-fail"
	// DelayKey: a time.ParseDuration string ("200ms"); the method sleeps that
	// long before doing anything else, and returns the context's status
	// (DeadlineExceeded or Canceled) if the call ends first.
	DelayKey = "x-delay"
	// ServedByKey is the trailer every response carries, with the value
	// ServedByValue.
	ServedByKey = "x-served-by"
)

// Values used by the metadata behaviour.
const (
	ServedByValue = "bookstore"
	FailMessage   = "forced failure"
	FailReason    = "FORCED"
	FailDomain    = "bookstore.example"
)

// metadataSetter is where response metadata goes: a server stream, or the
// unary call's transport stream through grpc.SetHeader and grpc.SetTrailer.
type metadataSetter interface {
	SetHeader(metadata.MD) error
	SetTrailer(metadata.MD)
}

// unarySetter sends response metadata of a unary call. Outside a gRPC
// server (a direct method call) the metadata is dropped.
type unarySetter struct{ ctx context.Context }

func (u unarySetter) SetHeader(md metadata.MD) error { return grpc.SetHeader(u.ctx, md) }
func (u unarySetter) SetTrailer(md metadata.MD)      { _ = grpc.SetTrailer(u.ctx, md) }

// begin starts a unary RPC: see beginWith.
func (s *Server) begin(ctx context.Context) error {
	return s.beginWith(ctx, unarySetter{ctx})
}

// beginStream starts a streaming RPC: see beginWith.
func (s *Server) beginStream(ss grpc.ServerStream) error {
	return s.beginWith(ss.Context(), ss)
}

// beginWith counts the call, echoes x-echo, sets the x-served-by trailer,
// then applies x-delay and x-fail, in that order (so a delayed failure can
// be provoked). A non-nil error is the status the method must return.
func (s *Server) beginWith(ctx context.Context, out metadataSetter) error {
	s.calls.Add(1)
	out.SetTrailer(metadata.Pairs(ServedByKey, ServedByValue))
	md, _ := metadata.FromIncomingContext(ctx)
	if echo := md.Get(EchoKey); len(echo) > 0 {
		// Fails only outside a gRPC server or once headers are sent,
		// neither of which can happen here for a real call.
		_ = out.SetHeader(metadata.MD{EchoKey: echo})
	}
	if v := lastValue(md, DelayKey); v != "" {
		if err := delay(ctx, v); err != nil {
			return err
		}
	}
	if v := lastValue(md, FailKey); v != "" {
		return forcedFailure(v)
	}
	return nil
}

// lastValue returns the last value of key in md, or "".
func lastValue(md metadata.MD, key string) string {
	vs := md.Get(key)
	if len(vs) == 0 {
		return ""
	}
	return strings.TrimSpace(vs[len(vs)-1])
}

// delay sleeps for the duration v, or until ctx ends.
func delay(ctx context.Context, v string) error {
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return status.Errorf(codes.InvalidArgument, "%s: bad duration %q", DelayKey, v)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return status.FromContextError(ctx.Err()).Err()
	}
}

// forcedFailure returns the status asked for by an x-fail value, or nil
// for OK.
func forcedFailure(v string) error {
	code, ok := parseCode(v)
	if !ok {
		return status.Errorf(codes.InvalidArgument, "%s: unknown code %q", FailKey, v)
	}
	if code == codes.OK {
		return nil
	}
	st, err := status.New(code, FailMessage).WithDetails(&errdetails.ErrorInfo{
		Reason: FailReason,
		Domain: FailDomain,
	})
	if err != nil {
		// Only if ErrorInfo cannot be marshalled into an Any.
		return status.Error(code, FailMessage)
	}
	return st.Err()
}

// parseCode parses a gRPC code given as a number (0-16) or as its canonical
// name, in any case ("NOT_FOUND", "not_found").
func parseCode(v string) (codes.Code, bool) {
	var c codes.Code
	if _, err := strconv.ParseUint(v, 10, 32); err == nil {
		if c.UnmarshalJSON([]byte(v)) != nil {
			return 0, false
		}
		return c, true
	}
	if c.UnmarshalJSON([]byte(strconv.Quote(strings.ToUpper(v)))) != nil {
		return 0, false
	}
	return c, true
}
