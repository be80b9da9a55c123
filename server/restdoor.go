package server

import (
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/grpcdoor"
	"github.com/portico-gw/portico/limits"
	"github.com/portico-gw/portico/webprotocols"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// restDoor is the REST door's entry on a listener: a refused request
// frees its connection (restconn.go), bounded calls in flight, bounded
// header size (both answered in JSON), the call counted on the current
// snapshot, its Info in the context, then the snapshot's REST door with
// its edges.
type restDoor struct {
	src    grpcdoor.Snapshots
	limits limits.Limits
	budget *limits.Budget
	// grpc is the gRPC door's handler, where gRPC-Web and Connect calls
	// go (nil: they are not served).
	grpc http.Handler
	// direct serves the unary gRPC-Web and Connect calls webprotocols
	// decodes itself (with grpc).
	direct webprotocols.Direct
	// webOnly serves the gRPC listener's HTTP/1.1 connections: gRPC-Web
	// and Connect, not REST.
	webOnly  bool
	inFlight atomic.Int64
	// calls counts the handlers running, WebSockets included.
	calls sync.WaitGroup
}

func (d *restDoor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w, r, done := guardConn(w, r)
	defer done()
	d.calls.Add(1)
	defer d.calls.Done()
	snap := d.src.Enter()
	defer snap.Leave()
	if d.inFlight.Add(1) > d.limits.MaxInFlight {
		d.inFlight.Add(-1)
		snap.REST().WriteError(w, r, call.WithHTTPStatus(http.StatusServiceUnavailable,
			status.New(codes.ResourceExhausted, "too many calls in flight")))
		return
	}
	defer d.inFlight.Add(-1)
	if headerBytes(r) > d.limits.MaxHeaderBytes {
		if r.ProtoMajor == 1 {
			// Over HTTP/2 this would end every stream of the connection
			// (GOAWAY), not just this one (restconn.go).
			w.Header().Set("Connection", "close")
		}
		snap.REST().WriteError(w, r, call.WithHTTPStatus(http.StatusRequestHeaderFieldsTooLarge,
			status.New(codes.InvalidArgument, "request headers too large")))
		return
	}
	info := call.FromContext(r.Context()) // telemetry's middleware may have made it
	if info == nil {
		info = call.NewHTTP(r)
	}
	info.SetAdmission(d.budget.Admit)
	ctx := call.NewHTTPContext(r.Context(), info)
	if d.grpc != nil {
		// gRPC-Web and Connect calls go on to the gRPC door.
		ctx = webprotocols.WithTarget(ctx, d.grpc)
		if d.direct != nil {
			ctx = webprotocols.WithDirect(ctx, d.direct)
		}
	}
	h := snap.Handler()
	if d.webOnly {
		h = snap.WebHandler()
	}
	h.ServeHTTP(w, r.WithContext(ctx))
}

// headerBytes is the size of a request's header fields as sent ("Name:
// value\r\n" each), the request line apart.
func headerBytes(r *http.Request) int {
	n := 0
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}
