package responsemap

import (
	"context"
	"github.com/portico-gw/portico/call"
	"log/slog"

	"github.com/portico-gw/portico/pipeline"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Stage is the part of the mapping both doors apply, as interceptors for
// the outermost place in the method's chain (so they see the final
// status): the forward_metadata allow-list on what the backend reports,
// and hide_internal_errors on the status the call ends with, the original
// logged to log with the method (and the backend's
// grpc-status-details-bin trailer, which repeats it, dropped). The zero
// Stage when neither is asked for.
func (m *Mapping) Stage(log *slog.Logger) pipeline.Stage {
	if m == nil || (m.allow == nil && !m.hide) {
		return pipeline.Stage{}
	}
	if log == nil {
		log = slog.Default()
	}
	unary := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		ctx = m.withFilteredTransport(ctx)
		resp, err := h(ctx, req)
		if err != nil && m.hide {
			err = m.hideError(ctx, log, info.FullMethod, err)
		}
		return resp, err
	}
	stream := func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		ss = &filteredStream{ServerStream: ss, ctx: m.withFilteredTransport(ss.Context()), m: m}
		err := h(srv, ss)
		if err != nil && m.hide {
			err = m.hideError(ss.Context(), log, info.FullMethod, err)
		}
		return err
	}
	return pipeline.Stage{Unary: unary, Stream: stream}
}

// hiddenText is what a client reads instead of an internal error's
// message: the code's meaning, nothing about the backend.
func hiddenText(c codes.Code) string {
	switch c {
	case codes.Unknown:
		return "unknown error"
	case codes.DataLoss:
		return "data loss"
	}
	return "internal error"
}

// Hide returns err as a client may see it when internal errors are
// hidden: an INTERNAL, UNKNOWN or DATA_LOSS status (or an error that is
// not a status at all, which is UNKNOWN) becomes the same code with a
// generic message and no details; other errors pass unchanged. It does
// not log; the pipeline stage does.
func Hide(err error) error {
	c := status.Code(err)
	switch c {
	case codes.Internal, codes.Unknown, codes.DataLoss:
		return status.Error(c, hiddenText(c))
	}
	return err
}

// hideError is Hide, with the original logged (a backend's status stays
// marked as the backend's, call.FromBackend) (unless it already was the
// generic text: a recovered panic is logged where it is caught).
func (m *Mapping) hideError(ctx context.Context, log *slog.Logger, method string, err error) error {
	hidden := Hide(err)
	if hidden == err {
		return err
	}
	if call.IsFromBackend(err) {
		hidden = call.FromBackend(hidden)
	}
	st := status.Convert(err)
	details := st.Proto().GetDetails()
	if st.Message() == hiddenText(st.Code()) && len(details) == 0 {
		return hidden
	}
	types := make([]string, len(details))
	for i, d := range details {
		types[i] = d.GetTypeUrl()
	}
	log.LogAttrs(ctx, slog.LevelError, "internal error hidden from the client",
		slog.String("method", method),
		slog.String("code", CodeName(st.Code())),
		slog.String("message", st.Message()),
		slog.Any("details", types))
	return hidden
}
