package responsemap_test

import (
	"context"
	"testing"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// One test per problem found, named for it.

// TestRegressHiddenErrorLeakedThroughStatusDetailsTrailer: grpc-go
// reports a backend's grpc-status-details-bin among its trailer metadata,
// and the gRPC integration forwards trailers as they are: the hidden
// error's message and details reached gRPC clients (whose grpc-go prefers
// that trailer to the status sent) and REST clients accepting trailers
// (Grpc-Trailer-Grpc-Status-Details-Bin). With hide_internal_errors, the
// backend's status details are never forwarded.
func TestRegressHiddenErrorLeakedThroughStatusDetailsTrailer(t *testing.T) {
	m := compile(t, &configv1.ResponseMapping{HideInternalErrors: true})
	st := m.Stage(nil)
	original, err := proto.Marshal(status.New(codes.Internal, "pq: 10.0.3.7:5432 refused").Proto())
	if err != nil {
		t.Fatal(err)
	}
	backendTrailer := metadata.MD{"grpc-status-details-bin": {string(original)}, "x-served-by": {"db"}}

	tr := &recordingTransport{}
	ctx := grpc.NewContextWithServerTransportStream(context.Background(), tr)
	_, _ = st.Unary(ctx, nil, &grpc.UnaryServerInfo{FullMethod: "/x.S/M"}, func(ctx context.Context, _ any) (any, error) {
		_ = grpc.SetTrailer(ctx, backendTrailer)
		return nil, status.Error(codes.Internal, "pq: 10.0.3.7:5432 refused")
	})
	if v := tr.trailer.Get("grpc-status-details-bin"); len(v) != 0 || len(tr.trailer.Get("x-served-by")) != 1 {
		t.Errorf("unary trailer: got %v, want x-served-by only", tr.trailer)
	}

	door := &recordingStream{ctx: context.Background()}
	_ = st.Stream(nil, door, &grpc.StreamServerInfo{FullMethod: "/x.S/M"}, func(_ any, ss grpc.ServerStream) error {
		ss.SetTrailer(backendTrailer)
		return status.Error(codes.Internal, "pq: 10.0.3.7:5432 refused")
	})
	if v := door.trailer.Get("grpc-status-details-bin"); len(v) != 0 || len(door.trailer.Get("x-served-by")) != 1 {
		t.Errorf("stream trailer: got %v, want x-served-by only", door.trailer)
	}
}
