package server

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/portico-gw/portico/admin"
	"github.com/portico-gw/portico/catalog"
	adminv1 "github.com/portico-gw/portico/gen/portico/admin/v1"
	"github.com/portico-gw/portico/grpcdoor"
	"github.com/portico-gw/portico/pipeline"
	"github.com/portico-gw/portico/snapshot"
	"github.com/portico-gw/portico/transcoder"
	"google.golang.org/grpc/status"
)

// adminDoor serves the admin API through the gateway's own door code: a
// Server of its own whose snapshot exposes the compiled-in
// portico.admin.v1.Admin with this process as its backend. REST/JSON goes
// through the REST door's entry and the transcoder, gRPC through the gRPC
// door (reached with grpc.Server.ServeHTTP on the admin
// listener's HTTP/2 connections) — gate, pipeline, errors and all — so
// curl and grpcurl both work on the admin port. The admin token is a
// pipeline gate, the same on both.
//
// grpc.health.v1 on the admin port reports the gateway's own health (the
// main server's), and server reflection describes the admin API.
type adminDoor struct {
	snap *snapshot.Snapshot
	rest *restDoor
	grpc *grpcdoor.Door
}

// newAdminDoor builds the admin API's snapshot and door.
// audit (nil: none) records its changes.
func (s *Server) newAdminDoor(tok admin.Token, audit *admin.Audit) (*adminDoor, error) {
	impl := admin.New(&gatewayView{s: s}, s.log)
	backend := admin.NewInProcess(&adminv1.Admin_ServiceDesc, impl)
	cat, err := catalog.New(catalog.Options{APIs: []catalog.API{{
		Where:       "admin",
		Services:    []string{string(adminv1.File_portico_admin_v1_admin_proto.Services().Get(0).FullName())},
		Backend:     backend,
		BackendName: "admin",
	}}})
	if err != nil {
		return nil, err
	}
	pipe, err := pipeline.New(cat.MethodList(), pipeline.Options{Logger: s.log}, audit.Policy(), tok.Policy())
	if err != nil {
		return nil, err
	}
	lim := s.limits
	rest, err := transcoder.New(cat, pipe, transcoder.Options{
		MaxBodyBytes:   64 << 10, // admin requests are empty
		MaxPathBytes:   lim.MaxPathBytes,
		BodyTimeout:    lim.BodyTimeout,
		WriteTimeout:   lim.WriteTimeout,
		RecursionLimit: lim.RecursionLimit(),
		Logger:         s.log,
	})
	if err != nil {
		return nil, err
	}
	snap := snapshot.ForAPI(cat, pipe, rest, lim)
	d := &adminDoor{snap: snap}
	d.rest = &restDoor{src: d, limits: lim, budget: s.restBudget}
	d.grpc = grpcdoor.New(d, grpcdoor.Options{Limits: lim, Budget: s.grpcBudget, Stop: s.stopCtx, Logger: s.log, Health: s.health.server})
	var once sync.Once
	s.closers = append(s.closers, closerFunc(func() error {
		once.Do(d.grpc.Server().Stop)
		return nil
	}))
	return d, nil
}

// Enter and Current give both doors the admin API's one snapshot.
func (d *adminDoor) Enter() *snapshot.Snapshot {
	d.snap.Enter()
	return d.snap
}

func (d *adminDoor) Current() *snapshot.Snapshot { return d.snap }

// ServeHTTP sends gRPC requests (HTTP/2, application/grpc) to the gRPC
// door and everything else to the REST door.
func (d *adminDoor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if isGRPC(r) {
		d.grpc.Server().ServeHTTP(w, r)
		return
	}
	d.rest.ServeHTTP(w, r)
}

// refuse answers a request the listener's guard refused, as the door it
// was going to answers errors: a gRPC status (trailers only) on the gRPC
// door, the REST door's JSON error body otherwise.
func (d *adminDoor) refuse(w http.ResponseWriter, r *http.Request, err error) {
	if !isGRPC(r) {
		d.snap.REST().WriteError(w, r, err)
		return
	}
	st := status.Convert(err)
	h := w.Header()
	h.Set("Content-Type", "application/grpc")
	h.Set("Grpc-Status", strconv.Itoa(int(st.Code())))
	h.Set("Grpc-Message", url.PathEscape(st.Message())) // percent-encoded, as gRPC's HTTP/2 mapping wants
	w.WriteHeader(http.StatusOK)
}

// isGRPC reports whether r is a gRPC call (HTTP/2, application/grpc…).
func isGRPC(r *http.Request) bool {
	return r.ProtoMajor == 2 && strings.HasPrefix(r.Header.Get("Content-Type"), "application/grpc")
}

// closerFunc is an io.Closer.
type closerFunc func() error

func (f closerFunc) Close() error { return f() }
