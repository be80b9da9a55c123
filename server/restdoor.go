package server

import (
	"net/http"

	"github.com/portico-gw/portico/call"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// serveREST is the REST door's entry: a refused request frees its
// connection (restconn.go), bounded calls in flight, bounded header size
// (both answered in JSON), the call counted on the current snapshot, its
// Info in the context, then the snapshot's transcoder.
func (s *Server) serveREST(w http.ResponseWriter, r *http.Request) {
	w, r, done := guardConn(w, r)
	defer done()
	s.restCalls.Add(1)
	defer s.restCalls.Done()
	snap := s.enter()
	defer snap.inflight.leave()
	if s.restInFlight.Add(1) > s.limits.MaxInFlight {
		s.restInFlight.Add(-1)
		snap.REST.WriteError(w, r, call.WithHTTPStatus(http.StatusServiceUnavailable,
			status.New(codes.ResourceExhausted, "too many calls in flight")))
		return
	}
	defer s.restInFlight.Add(-1)
	if headerBytes(r) > s.limits.MaxHeaderBytes {
		if r.ProtoMajor == 1 {
			// Over HTTP/2 this would end every stream of the connection
			// (GOAWAY), not just this one (restconn.go).
			w.Header().Set("Connection", "close")
		}
		snap.REST.WriteError(w, r, call.WithHTTPStatus(http.StatusRequestHeaderFieldsTooLarge,
			status.New(codes.InvalidArgument, "request headers too large")))
		return
	}
	info := call.FromContext(r.Context()) // telemetry's middleware may have made it
	if info == nil {
		info = call.NewHTTP(r)
	}
	info.SetAdmission(s.restBudget.Admit)
	snap.Handler.ServeHTTP(w, r.WithContext(call.NewHTTPContext(r.Context(), info)))
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
