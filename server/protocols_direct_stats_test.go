package server_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portico-gw/portico/server"
	"github.com/portico-gw/portico/server/servertest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
)

// rpcEvents is a stats handler that records what it sees of each call:
// the tag (with the method the handler's context names), Begin and End
// (with its code); each End is also sent on ends.
type rpcEvents struct {
	mu     sync.Mutex
	events []string
	ends   chan struct{}
}

func (r *rpcEvents) add(e string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *rpcEvents) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

func (r *rpcEvents) TagRPC(ctx context.Context, i *stats.RPCTagInfo) context.Context {
	r.add("tag " + i.FullMethodName)
	return ctx
}

func (r *rpcEvents) HandleRPC(ctx context.Context, s stats.RPCStats) {
	switch s := s.(type) {
	case *stats.Begin:
		r.add("begin")
	case *stats.End:
		m, _ := grpc.Method(ctx)
		r.add(fmt.Sprintf("end %v %s", status.Code(s.Error), m))
		r.ends <- struct{}{}
	}
}

func (r *rpcEvents) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (r *rpcEvents) HandleConn(context.Context, stats.ConnStats)                       {}

// TestDirectStatsOnce: the gRPC door's stats handlers see a call served on
// the direct path once — tagged with its method, begun, ended with its
// status — as they see a call of a native gRPC client.
func TestDirectStatsOnce(t *testing.T) {
	rec := &rpcEvents{ends: make(chan struct{}, 16)}
	env := servertest.Start(t, servertest.Options{Server: server.Options{GRPCStats: []stats.Handler{rec}}})
	get := bookstoreSvc + "GetBook"
	for _, tc := range []struct {
		c    webCall
		code string
	}{
		{connectJSON("connect", get, `{"name":"shelves/1/books/1"}`), "OK"},
		{webCall{name: "grpc-web", path: get, headers: map[string]string{"Content-Type": "application/grpc-web+proto", "X-Fail": "NOT_FOUND"},
			body: envelope(0, getBookProto(t))}, "NotFound"},
	} {
		seen(t, env.URL, tc.c)
		select {
		case <-rec.ends:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: the stats handler saw no End", tc.c.name)
		}
		got := strings.Join(rec.take(), "; ")
		want := fmt.Sprintf("tag %s; begin; end %s %s", get, tc.code, get)
		if got != want {
			t.Errorf("%s: got %q, want %q", tc.c.name, got, want)
		}
	}
}
