package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/portico-gw/portico/server/servertest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// FuzzGRPCDoor sends arbitrary request frames through the gRPC door to
// every method of the hostile API, which is known only from .proto sources
// (dynamicpb messages with maps, Struct, Value, Any, oneofs, HttpBody) in
// every streaming shape: one frame, or two for client streams. Whatever
// the bytes, the gateway answers with a status that is not INTERNAL or
// UNKNOWN (a malformed message is INVALID_ARGUMENT), and keeps serving: a
// panic anywhere ends the fuzzing process.
func FuzzGRPCDoor(f *testing.F) {
	seeds := []struct {
		method        uint8
		first, second []byte
	}{
		{0, []byte{0x1a, 0x05, 0x0a, 0x01, 0x61, 0x08, 0x00}, nil},                         // map entry, key as varint
		{0, []byte{0x22, 0x07, 0x0a, 0x05, 0x0a, 0x01, 0x61, 0x08, 0x00}, nil},             // the same in a Struct
		{3, []byte{0x2a, 0x09, 0x2a, 0x07, 0x0a, 0x05, 0x0a, 0x01, 0x61, 0x08, 0x00}, nil}, // in a Value
		{4, []byte{0x0a, 0x01, 'a'}, []byte{0x5a, 0x05, 0x0a, 0x01, 0x61, 0x08, 0x00}},     // second message of a client stream
		{5, []byte{0x0a, 0x01, 'a'}, []byte{0x1a, 0x05, 0x0a, 0x01, 0x61, 0x08, 0x00}},     // bidi
		{2, []byte{0x12, 0x06, 0x0a, 0x02, 'a', 'b', 0x12, 0x00}, nil},                     // HttpBody
		{0, []byte{0x32, 0x04, 0x0a, 0x02, 'x', 'y'}, nil},                                 // Any
		{0, []byte{0x4a, 0x02, 0x4a, 0x00}, nil},                                           // oneof child
		{1, []byte{0xff, 0xff, 0xff}, nil},
		{0, nil, nil},
	}
	for _, s := range seeds {
		f.Add(s.method, s.first, s.second)
	}
	env := servertest.StartHostile(f, servertest.Options{})
	methods := []struct {
		name string
		desc grpc.StreamDesc
	}{
		{"Put", unaryDesc}, {"Get", unaryDesc}, {"PutUpload", unaryDesc},
		{"Watch", serverDesc}, {"Collect", clientDesc}, {"Chat", bidiDesc},
	}
	f.Fuzz(func(t *testing.T, method uint8, first, second []byte) {
		m := methods[int(method)%len(methods)]
		frames := [][]byte{first}
		if m.desc.ClientStreams && len(second) > 0 {
			frames = append(frames, second)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := rawCall(t, env.Conn, ctx, hostile+m.name, m.desc, frames...)
		switch status.Code(err) {
		case codes.Internal, codes.Unknown, codes.Unavailable:
			t.Fatalf("%s % x / % x: got %v", m.name, first, second, err)
		}
	})
}
