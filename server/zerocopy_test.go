package server_test

import (
	"bytes"
	"net"
	"sync"
	"testing"

	"github.com/portico-gw/portico/codec"
	"github.com/portico-gw/portico/server/servertest"
	"google.golang.org/grpc"
)

// rawEcho is a backend that sees wire bytes: it records each request
// frame as it arrived and answers with reply (raw bytes, as given).
type rawEcho struct {
	mu    sync.Mutex
	got   [][]byte
	reply []byte
}

func (e *rawEcho) handle(_ any, ss grpc.ServerStream) error {
	var f codec.Frame
	if err := ss.RecvMsg(&f); err != nil {
		return err
	}
	e.mu.Lock()
	e.got = append(e.got, append([]byte(nil), f.Bytes()...))
	e.mu.Unlock()
	f.Free()
	return ss.SendMsg(codec.NewFrame(e.reply))
}

func startRawEcho(t *testing.T, reply []byte) (*rawEcho, string) {
	t.Helper()
	e := &rawEcho{reply: reply}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(grpc.ForceServerCodecV2(codec.Codec{}), grpc.UnknownServiceHandler(e.handle))
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	return e, lis.Addr().String()
}

// TestZeroCopyGRPCDoor (issue 11, point 6): on the gRPC door, a method no
// interceptor needs to see (no validation rules, no rule on request
// fields, no mapping) is forwarded as wire bytes both ways: the backend
// receives exactly the bytes the client sent (here a non-canonical
// encoding: fields out of order, a padded varint) and the client exactly
// the bytes the backend sent. A method with validation rules has its
// request decoded (and so re-encoded canonically); its response, which
// validation does not read, comes back as the backend sent it
// (pipeline.Method.WireResponse). Malformed bytes are refused either
// way, and never reach the backend.
func TestZeroCopyGRPCDoor(t *testing.T) {
	// Upload{body: HttpBody{data: "xy"}, name: "n"}, body first, and
	// Thing{size: 1} with a two-byte varint.
	upload := []byte{0x12, 0x04, 0x12, 0x02, 'x', 'y', 0x0a, 0x01, 'n'}
	thing := []byte{0x10, 0x81, 0x00}
	reply := []byte{0x4a, 0x02, 0x10, 0x07, 0x0a, 0x01, 'r'} // Thing{child: {size: 7}, name: "r"}, out of order
	backend, addr := startRawEcho(t, reply)
	env := servertest.StartGateway(t, addr, servertest.Options{Config: func(c *configv1Config) {
		c.Descriptors = []string{servertest.HostileDir()}
		c.Apis[0].Services = []string{servertest.HostileService}
	}})

	resps, err := rawCall(t, env.Conn, nil, hostile+"PutUpload", unaryDesc, upload)
	if err != nil || len(resps) != 1 {
		t.Fatalf("PutUpload: %d responses, %v", len(resps), err)
	}
	if !bytes.Equal(backend.got[0], upload) {
		t.Errorf("zero-copy request: the backend got % x, want the client's bytes % x", backend.got[0], upload)
	}
	if !bytes.Equal(resps[0], reply) {
		t.Errorf("zero-copy response: the client got % x, want the backend's bytes % x", resps[0], reply)
	}

	resps, err = rawCall(t, env.Conn, nil, hostile+"Put", unaryDesc, thing)
	if err != nil || len(resps) != 1 {
		t.Fatalf("Put: %d responses, %v", len(resps), err)
	}
	if bytes.Equal(backend.got[1], thing) || !bytes.Equal(backend.got[1], []byte{0x10, 0x01}) {
		t.Errorf("decoded request (validation rules): the backend got % x, want the canonical 10 01", backend.got[1])
	}
	if !bytes.Equal(resps[0], reply) {
		t.Errorf("validated call's response: the client got % x, want the backend's bytes % x", resps[0], reply)
	}

	for _, bad := range [][]byte{{0x0a, 0x09, 'x'}, {0x12, 0x02, 0x0a, 0x80}} {
		_, err := rawCall(t, env.Conn, nil, hostile+"PutUpload", unaryDesc, bad)
		wantCode(t, "malformed zero-copy request", err, 3)
	}
	if n := len(backend.got); n != 2 {
		t.Errorf("backend calls: got %d, want 2 (malformed ones refused at the door)", n)
	}
}
