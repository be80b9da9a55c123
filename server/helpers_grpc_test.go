package server_test

// Calling the gRPC door with raw frames, as a hostile client does.

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/portico-gw/portico/codec"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const hostile = "/hostile.v1.Hostile/"

var (
	unaryDesc  = grpc.StreamDesc{}
	serverDesc = grpc.StreamDesc{ServerStreams: true}
	clientDesc = grpc.StreamDesc{ClientStreams: true}
	bidiDesc   = grpc.StreamDesc{ClientStreams: true, ServerStreams: true}
)

// rawCall sends frames, as they are, on a call to the gRPC door and
// returns the response frames and the call's status.
func rawCall(t *testing.T, conn *grpc.ClientConn, ctx context.Context, method string, desc grpc.StreamDesc, frames ...[]byte) ([][]byte, error) {
	t.Helper()
	if ctx == nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
	}
	cs, err := conn.NewStream(ctx, &desc, method, grpc.ForceCodecV2(codec.Client{}))
	if err != nil {
		return nil, err
	}
	for _, f := range frames {
		if err := cs.SendMsg(codec.NewFrame(f)); err != nil {
			break // the server ended the call: its status comes from RecvMsg
		}
	}
	_ = cs.CloseSend()
	var out [][]byte
	for {
		var f codec.Frame
		if err := cs.RecvMsg(&f); err != nil {
			if err == io.EOF {
				return out, nil
			}
			return out, err
		}
		out = append(out, append([]byte(nil), f.Bytes()...))
		f.Free()
	}
}

// wantCode fails the test unless err has code want.
func wantCode(t *testing.T, what string, err error, want codes.Code) {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Errorf("%s: got %v, want %v", what, err, want)
	}
}
