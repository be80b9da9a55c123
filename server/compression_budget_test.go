package server_test

// Decompressed bytes are charged to limits.max_body_bytes_in_flight: a
// compressed body small on the wire holds the room its decompressed size
// needs, exactly as the same body sent uncompressed does.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/codec"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"
)

// gatedBackend serves the hostile API's unary methods by echoing the
// request (kept as unknown fields of an Empty), but holds every call
// until release is closed; arrived gets one value per call received.
type gatedBackend struct {
	calls   atomic.Int64
	arrived chan struct{}
	release chan struct{}
}

func startGatedBackend(t *testing.T) (*gatedBackend, string) {
	t.Helper()
	b := &gatedBackend{arrived: make(chan struct{}, 16), release: make(chan struct{})}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.UnknownServiceHandler(func(_ any, ss grpc.ServerStream) error {
		in := &emptypb.Empty{}
		if err := ss.RecvMsg(in); err != nil {
			return err
		}
		b.calls.Add(1)
		b.arrived <- struct{}{}
		select {
		case <-b.release:
		case <-ss.Context().Done():
			return ss.Context().Err()
		}
		return ss.SendMsg(in)
	}))
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return b, lis.Addr().String()
}

// budgetWait is body_timeout in these tests: how long a large request
// waits for room in the budget before it is refused.
const budgetWait = time.Second

// startBudgetGateway is a gateway exposing the hostile API in front of a
// holding backend, with a 1 MiB budget.
func startBudgetGateway(t *testing.T) (*servertest.Env, *gatedBackend) {
	t.Helper()
	backend, addr := startGatedBackend(t)
	env := servertest.StartGateway(t, addr, servertest.Options{Config: func(c *configv1.Config) {
		c.Descriptors = []string{servertest.HostileDir()}
		c.Apis[0].Services = []string{servertest.HostileService}
		c.Limits = &configv1.Limits{
			MaxBodyBytesInFlight: proto32(1 << 20),
			BodyTimeout:          durationpb.New(budgetWait),
		}
	}})
	return env, backend
}

// budgetSequence runs the proof on one door: call holds the budget's room
// while the backend holds it, so a second one like it waits and is
// refused (refused reports whether err is the budget's refusal) without
// reaching the backend; once the first is done, a third passes.
func budgetSequence(t *testing.T, backend *gatedBackend, call func() error, refused func(error) bool) {
	t.Helper()
	first := make(chan error, 1)
	go func() { first <- call() }()
	select {
	case <-backend.arrived:
	case err := <-first:
		t.Fatalf("first call ended before reaching the backend: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("first call never reached the backend")
	}
	start := time.Now()
	err := call()
	waited := time.Since(start)
	if !refused(err) {
		t.Errorf("second call while the first holds the budget: got %v, want the budget's refusal", err)
	}
	if waited < budgetWait/2 {
		t.Errorf("second call refused after %v, want it to wait about %v for room first", waited, budgetWait)
	}
	if n := backend.calls.Load(); n != 1 {
		t.Errorf("backend calls: got %d, want 1 (the refused call must not reach it)", n)
	}
	close(backend.release)
	if err := <-first; err != nil {
		t.Errorf("first call: %v, want it served", err)
	}
	if err := call(); err != nil {
		t.Errorf("third call, after the first gave its room back: %v, want it served", err)
	}
	if n := backend.calls.Load(); n != 2 {
		t.Errorf("backend calls: got %d, want 2", n)
	}
}

// The decompressed size of the bodies: more than half the 1 MiB budget,
// so two cannot be held at once; compressed, far below the size under
// which a request is never charged (64 KiB), so a door charging the wire
// bytes would let every one of them through at once.
const budgetBodySize = 700 << 10

// TestCompressionBudgetREST: a gzip body is charged to
// max_body_bytes_in_flight by its decompressed size, like the same body
// sent as it is.
func TestCompressionBudgetREST(t *testing.T) {
	body, _ := json.Marshal(map[string]string{"text": strings.Repeat("a", budgetBodySize)})
	for _, coding := range []string{"identity", "gzip"} {
		t.Run(coding, func(t *testing.T) {
			env, backend := startBudgetGateway(t)
			wire := body
			if coding == "gzip" {
				wire = gzipped(t, body)
				if len(wire) >= 64<<10 {
					t.Fatalf("compressed body is %d bytes, want it under 64 KiB for the test to prove anything", len(wire))
				}
			}
			call := func() error {
				req, _ := http.NewRequest("POST", env.URL+"/v1/things", bytes.NewReader(wire))
				req.Header.Set("Content-Type", "application/json")
				if coding != "identity" {
					req.Header.Set("Content-Encoding", coding)
				}
				resp, err := servertest.Client().Do(req)
				if err != nil {
					return err
				}
				defer resp.Body.Close()
				var got struct{ Text string }
				if resp.StatusCode != http.StatusOK {
					return &httpStatusError{resp.StatusCode}
				}
				if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || len(got.Text) != budgetBodySize {
					return &httpStatusError{-1}
				}
				return nil
			}
			budgetSequence(t, backend, call, func(err error) bool {
				e, ok := err.(*httpStatusError)
				return ok && e.code == http.StatusServiceUnavailable
			})
		})
	}
}

// TestCompressionBudgetGRPC: a message sent with grpc-encoding gzip is
// charged by its decompressed size, like the same message sent as it is.
func TestCompressionBudgetGRPC(t *testing.T) {
	// Thing{text: 700 KiB of "a"}: field 7, length-delimited.
	msg := protowire.AppendVarint([]byte{0x3a}, budgetBodySize)
	msg = append(msg, bytes.Repeat([]byte("a"), budgetBodySize)...)
	for _, coding := range []string{"identity", "gzip"} {
		t.Run(coding, func(t *testing.T) {
			env, backend := startBudgetGateway(t)
			budgetSequence(t, backend, grpcBudgetCall(env, msg, coding), func(err error) bool {
				return status.Code(err) == codes.ResourceExhausted
			})
		})
	}
}

// grpcBudgetCall is one unary call of msg through the gRPC door, sent with
// the grpc-encoding coding, that must come back as it was sent.
func grpcBudgetCall(env *servertest.Env, msg []byte, coding string) func() error {
	return func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		opts := []grpc.CallOption{grpc.ForceCodecV2(codec.Client{})}
		if coding != "identity" {
			opts = append(opts, grpc.UseCompressor(coding))
		}
		cs, err := env.Conn.NewStream(ctx, &unaryDesc, hostile+"Put", opts...)
		if err != nil {
			return err
		}
		if err := cs.SendMsg(codec.NewFrame(msg)); err != nil {
			return err
		}
		_ = cs.CloseSend()
		var f codec.Frame
		if err := cs.RecvMsg(&f); err != nil {
			return err
		}
		defer f.Free()
		if !bytes.Equal(f.Bytes(), msg) {
			return status.Errorf(codes.DataLoss, "got %d bytes back, want the %d sent", f.Len(), len(msg))
		}
		return nil
	}
}

// httpStatusError is a REST answer other than the one wanted (-1: a 200
// whose body was not the echo).
type httpStatusError struct{ code int }

func (e *httpStatusError) Error() string { return fmt.Sprintf("HTTP %d", e.code) }
