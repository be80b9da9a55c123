package authtest

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
)

// Authorizer is a real ext_authz gRPC server on a :0 port. Its decision
// is Decide's (default: allow when the x-allow header is "yes").
type Authorizer struct {
	authv3.UnimplementedAuthorizationServer
	// Addr is where it listens.
	Addr string

	mu     sync.Mutex
	decide func(*authv3.CheckRequest) *authv3.CheckResponse
	last   *authv3.CheckRequest
	calls  atomic.Int64
	// block, when set, makes Check wait until the call's context ends
	// (time-out tests).
	block atomic.Bool
}

// NewAuthorizer starts an authorizer, stopped by t.Cleanup.
func NewAuthorizer(t testing.TB) *Authorizer {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := &Authorizer{Addr: lis.Addr().String()}
	a.decide = func(r *authv3.CheckRequest) *authv3.CheckResponse {
		if r.GetAttributes().GetRequest().GetHttp().GetHeaders()["x-allow"] == "yes" {
			return Allow(map[string]string{"x-authz": "ok"})
		}
		return Deny(403, map[string]string{"x-denied-by": "test-authz"})
	}
	srv := grpc.NewServer()
	authv3.RegisterAuthorizationServer(srv, a)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return a
}

// SetDecide replaces the decision function.
func (a *Authorizer) SetDecide(f func(*authv3.CheckRequest) *authv3.CheckResponse) {
	a.mu.Lock()
	a.decide = f
	a.mu.Unlock()
}

// SetBlock makes Check hang until its caller gives up (true).
func (a *Authorizer) SetBlock(b bool) { a.block.Store(b) }

// Calls is how many Checks were received.
func (a *Authorizer) Calls() int64 { return a.calls.Load() }

// Last is the last CheckRequest received.
func (a *Authorizer) Last() *authv3.CheckRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.last
}

// Check implements the Authorization service.
func (a *Authorizer) Check(ctx context.Context, r *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	a.calls.Add(1)
	a.mu.Lock()
	a.last = r
	decide := a.decide
	a.mu.Unlock()
	if a.block.Load() {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return decide(r), nil
}

// Allow is an OK answer whose headers go to the backend.
func Allow(headers map[string]string) *authv3.CheckResponse {
	ok := &authv3.OkHttpResponse{}
	for k, v := range headers {
		ok.Headers = append(ok.Headers, &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: k, Value: v}})
	}
	return &authv3.CheckResponse{
		Status:       &status.Status{Code: int32(codes.OK)},
		HttpResponse: &authv3.CheckResponse_OkResponse{OkResponse: ok},
	}
}

// Deny is a denial with an HTTP status and headers for the client.
func Deny(httpStatus int, headers map[string]string) *authv3.CheckResponse {
	d := &authv3.DeniedHttpResponse{Status: &typev3.HttpStatus{Code: typev3.StatusCode(httpStatus)}, Body: "secret reason"}
	for k, v := range headers {
		d.Headers = append(d.Headers, &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: k, Value: v}})
	}
	return &authv3.CheckResponse{
		Status:       &status.Status{Code: int32(codes.PermissionDenied), Message: "policy says no"},
		HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: d},
	}
}
