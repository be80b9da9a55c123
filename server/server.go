package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/config"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/grpcdoor"
	"github.com/portico-gw/portico/idlepark"
	"github.com/portico-gw/portico/limits"
	"github.com/portico-gw/portico/snapshot"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/stats"
)

// Server runs the doors over the current snapshot.
type Server struct {
	snap   atomic.Pointer[snapshot.Snapshot]
	log    *slog.Logger
	limits limits.Limits
	health *healthState

	httpSrv  *http.Server
	grpc     *grpcdoor.Door
	adminSrv *http.Server

	// Addresses actually bound (useful with :0).
	HTTPAddr, GRPCAddr, AdminAddr string

	// rest is the REST door's entry; its calls (WebSockets included) are
	// waited for by Shutdown, since http.Server.Shutdown does not wait
	// for a hijacked connection.
	rest *restDoor
	// grpcWeb serves gRPC-Web and Connect on the gRPC listener's HTTP/1.1
	// connections (sniff.go); nil without that listener.
	grpcWeb                *restDoor
	grpcWebSrv             *http.Server
	grpcWebLis             net.Listener
	restBudget, grpcBudget *limits.Budget
	draining               atomic.Bool
	// stopCtx is cancelled (cause call.ErrShuttingDown) when the shutdown
	// grace period ends: calls still running end with a status.
	stopCtx  context.Context
	stopCall context.CancelCauseFunc

	// tele is the listener-level telemetry (telemetry.go): middleware,
	// stats handlers, metrics, access log.
	tele *serverTelemetry

	listeners []net.Listener
	closers   []io.Closer
	// audit receives reloads and drains (admin.audit_log); nil: none.
	audit  AuditSink
	wg     sync.WaitGroup
	errs   chan error
	swapMu sync.Mutex
	reload reloader
	// started is the config the listeners were made from.
	started *configv1.Config
	// retired is Options.Retired (nil: none).
	retired func(serving *snapshot.Snapshot)
}

// Listen addresses; empty GRPC or Admin means that listener is off.
type Listen struct {
	HTTP, GRPC, Admin string
}

// Options adjust a Server.
type Options struct {
	// GRPCOptions are added to the gRPC door's (TLS, ...).
	GRPCOptions []grpc.ServerOption
	// GRPCStats see every call of the gRPC door, those of gRPC-Web and
	// Connect clients included (a grpc.StatsHandler in GRPCOptions would
	// miss the calls the REST listener serves directly).
	GRPCStats []stats.Handler
	// HTTPMiddleware wraps the REST door's handler (outermost first).
	HTTPMiddleware []func(http.Handler) http.Handler
	// AccessLog is where telemetry.access_log: json writes. Default os.Stdout.
	AccessLog io.Writer
	// Retired is called, with the snapshot now serving, after a
	// replaced snapshot is closed (a reload or Swap): what only the old
	// one held can be measured as gone (the command's memory policy,
	// package gcpolicy, measures the process again there).
	Retired func(serving *snapshot.Snapshot)
}

// New binds the listeners for snap. Nothing is served until Serve. The
// listeners' limits (header size, time-outs, streams, keepalive) come from
// snap's config and hold until the process restarts.
func New(snap *snapshot.Snapshot, listen Listen, log *slog.Logger, opts ...Options) (*Server, error) {
	if log == nil {
		log = slog.Default()
	}
	log = slog.New(config.RedactingHandler(log.Handler())) // no URL's user info in a log line
	var o Options
	for _, x := range opts {
		if x.AccessLog != nil {
			o.AccessLog = x.AccessLog
		}
		if x.Retired != nil {
			o.Retired = x.Retired
		}
	}
	tele, err := newTelemetry(snap.Config(), listen, log, o.AccessLog)
	if err != nil {
		return nil, fmt.Errorf("telemetry: %v", err)
	}
	opts = append([]Options{tele.hooks()}, opts...)
	for _, x := range opts {
		o.GRPCOptions = append(o.GRPCOptions, x.GRPCOptions...)
		o.GRPCStats = append(o.GRPCStats, x.GRPCStats...)
		o.HTTPMiddleware = append(o.HTTPMiddleware, x.HTTPMiddleware...)
	}
	s := &Server{log: log, errs: make(chan error, 3), limits: snap.Limits(), health: newHealthState(), tele: tele, started: snap.Config().Config, retired: o.Retired}
	s.restBudget = limits.NewBudget(s.limits.MaxBodyBytesInFlight, s.limits.BodyTimeout)
	s.grpcBudget = limits.NewBudget(s.limits.MaxBodyBytesInFlight, s.limits.BodyTimeout)
	s.closers = append(s.closers, tele)
	tele.watch(s)
	tlsConf, tlsCloser, err := doorTLS(snap.Config(), log)
	if err != nil {
		s.closeAll()
		return nil, fmt.Errorf("tls: %v", err)
	}
	if tlsCloser != nil {
		s.closers = append(s.closers, tlsCloser)
	}
	s.stopCtx, s.stopCall = context.WithCancelCause(context.Background())
	s.snap.Store(snap)
	s.health.follow(snap)

	httpLis, err := net.Listen("tcp", listen.HTTP)
	if err != nil {
		s.closeAll()
		return nil, fmt.Errorf("listen.http: %v", err)
	}
	httpLis = lingerListener{httpLis} // closes gracefully (restconn.go)
	var parked *idlepark.Listener
	if tlsConf != nil {
		httpLis = tls.NewListener(httpLis, tlsConf.Clone())
	} else {
		// Idle keep-alive connections leave net/http's buffers and
		// goroutine (package idlepark); not under TLS.
		parked = idlepark.New(httpLis)
		parked.SetParkAfter(parkAfter)
		httpLis = parked
	}
	s.listeners = append(s.listeners, httpLis)
	s.HTTPAddr = httpLis.Addr().String()
	s.rest = &restDoor{src: s, limits: s.limits, budget: s.restBudget}
	s.httpSrv = s.newHTTPServer(s.rest, o.HTTPMiddleware)
	if parked != nil {
		s.httpSrv.ConnState = parked.ConnState
	}
	grpcOpts := o.GRPCOptions
	if tlsConf != nil {
		creds := credentials.NewTLS(tlsConf)
		if listen.GRPC != "" {
			creds = newHandshaken(tlsConf) // the listener does the handshake (sniff.go)
		}
		grpcOpts = append([]grpc.ServerOption{grpc.Creds(creds)}, grpcOpts...)
	}
	// The gRPC door is made even without its listener: gRPC-Web and
	// Connect calls of the REST listener are served by it.
	s.grpc = grpcdoor.New(s, grpcdoor.Options{Limits: s.limits, Budget: s.grpcBudget, Stop: s.stopCtx, Logger: log,
		Health: s.health.server, ServerOptions: grpcOpts, Stats: o.GRPCStats})
	s.rest.grpc, s.rest.direct = s.grpc.Server(), s.grpc.Serve
	if listen.GRPC != "" {
		lis, err := net.Listen("tcp", listen.GRPC)
		if err != nil {
			s.closeAll()
			return nil, fmt.Errorf("listen.grpc: %v", err)
		}
		s.GRPCAddr = lis.Addr().String()
		// gRPC-Web and Connect over HTTP/1.1 beside gRPC (sniff.go).
		var splitTLS *tls.Config
		if tlsConf != nil {
			splitTLS = tlsConf.Clone()
		}
		split := newSplitListener(lis, s.limits.ReadHeaderTimeout, splitTLS)
		lis = split.h2
		s.grpcWeb = &restDoor{src: s, limits: s.limits, budget: s.restBudget, grpc: s.grpc.Server(), direct: s.grpc.Serve, webOnly: true}
		s.grpcWebSrv = s.newHTTPServer(s.grpcWeb, o.HTTPMiddleware)
		s.grpcWebLis = split.web
		if splitTLS == nil {
			// Idle keep-alive connections parked, as the REST listener's
			// (idlepark); not under TLS, where net/http must see the
			// *tls.Conn.
			web := idlepark.New(split.web)
			web.SetParkAfter(parkAfter)
			s.grpcWebSrv.ConnState = web.ConnState
			s.grpcWebLis = web
		}
		s.listeners = append(s.listeners, lis)
	}
	if listen.Admin != "" {
		lis, err := net.Listen("tcp", listen.Admin)
		if err != nil {
			s.closeAll()
			return nil, fmt.Errorf("listen.admin: %v", err)
		}
		s.listeners = append(s.listeners, lis)
		s.AdminAddr = lis.Addr().String()
		if s.adminSrv, err = s.newAdminServer(snap); err != nil {
			s.closeAll()
			return nil, fmt.Errorf("admin: %v", err)
		}
	}
	return s, nil
}

// Snapshot returns the snapshot being served.
func (s *Server) Snapshot() *snapshot.Snapshot { return s.snap.Load() }

// Current returns the snapshot being served (the doors' reflection).
func (s *Server) Current() *snapshot.Snapshot { return s.snap.Load() }

// Enter returns the current snapshot with a call counted in flight on it;
// the door calls its Leave when the call is done. The check after
// counting makes sure a snapshot being drained is never picked: either
// the call counted before the drain looked (and is waited for), or it
// sees the new snapshot and moves to it.
func (s *Server) Enter() *snapshot.Snapshot {
	for {
		snap := s.snap.Load()
		snap.Enter()
		if s.snap.Load() == snap {
			return snap
		}
		snap.Leave()
	}
}

// Swap serves next from now on. Calls in flight finish on the snapshot they
// started on; it is closed (its integrations released: what next still
// uses stays open) once they are done, or when ctx ends.
func (s *Server) Swap(ctx context.Context, next *snapshot.Snapshot) {
	s.retire(ctx, s.install(next))
}

// install serves next from now on and returns the snapshot it replaced.
func (s *Server) install(next *snapshot.Snapshot) *snapshot.Snapshot {
	s.swapMu.Lock()
	defer s.swapMu.Unlock()
	old := s.snap.Swap(next)
	s.health.follow(next)
	if old == next {
		return nil
	}
	return old
}

// retire closes a replaced snapshot once its calls are done, or when ctx
// ends.
func (s *Server) retire(ctx context.Context, old *snapshot.Snapshot) {
	if old == nil {
		return
	}
	select {
	case <-old.Drained():
	case <-ctx.Done():
		s.log.Warn("replaced snapshot closed with calls still in flight", "calls", old.InFlight())
	}
	if err := old.Close(); err != nil {
		s.log.Warn("closing the replaced snapshot", "err", err)
	}
	if s.retired != nil {
		s.retired(s.Snapshot())
	}
}

// Serve serves every listener until Shutdown; it returns the first serving
// error, or nil after a clean shutdown.
func (s *Server) Serve() error {
	run := func(f func() error) {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := f(); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, grpc.ErrServerStopped) {
				s.errs <- err
			}
		}()
	}
	i := 0
	httpLis := s.listeners[i]
	run(func() error { return s.httpSrv.Serve(httpLis) })
	if s.GRPCAddr != "" {
		i++
		lis := s.listeners[i]
		run(func() error { return s.grpc.Server().Serve(lis) })
	}
	if s.grpcWebSrv != nil {
		run(func() error { return s.grpcWebSrv.Serve(s.grpcWebLis) })
	}
	if s.adminSrv != nil {
		i++
		lis := s.listeners[i]
		run(func() error { return s.adminSrv.Serve(lis) })
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case err := <-s.errs:
		return err
	case <-done:
		return nil
	}
}

// Draining reports whether the server is shutting down.
func (s *Server) Draining() bool { return s.draining.Load() }

// InFlight is the number of calls in flight on each door.
func (s *Server) InFlight() (rest, grpc int64) {
	if s.grpc != nil {
		grpc = s.grpc.InFlight()
	}
	return s.rest.inFlight.Load(), grpc
}

// Shutdown drains the gateway: readiness and gRPC health turn
// NOT_SERVING first; then both doors stop accepting and wait together for
// the calls in flight (WebSockets included). Shortly before ctx ends (the grace period), calls
// still running are ended with UNAVAILABLE "server shutting down" (a
// stream gets it as its last message), so every client gets a proper end;
// then the snapshot is released. The admin listener stays up until the
// doors are done, so the drain can be watched.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	s.health.drain()
	s.auditDrain(ctx, "started", "")

	// Calls get the grace period less a margin to end on their own; the
	// margin is for their final status to be written.
	cutCtx := ctx
	if dl, ok := ctx.Deadline(); ok {
		margin := time.Until(dl) / 10
		if margin > time.Second {
			margin = time.Second
		}
		var cancel context.CancelFunc
		cutCtx, cancel = context.WithDeadline(ctx, dl.Add(-margin))
		defer cancel()
	}
	stopCut := context.AfterFunc(cutCtx, func() { s.stopCall(call.ErrShuttingDown) })
	defer stopCut()

	var wg sync.WaitGroup
	var httpErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		httpErr = s.httpSrv.Shutdown(ctx)
		if httpErr != nil {
			_ = s.httpSrv.Close()
		}
	}()
	if s.grpcWebSrv != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if s.grpcWebSrv.Shutdown(ctx) != nil {
				_ = s.grpcWebSrv.Close()
			}
		}()
	}
	if s.grpc != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stopped := make(chan struct{})
			go func() { s.grpc.Server().GracefulStop(); close(stopped) }()
			select {
			case <-stopped:
			case <-ctx.Done():
				s.grpc.Server().Stop()
				<-stopped
			}
		}()
	}
	wg.Wait()
	// WebSockets (hijacked, so not http.Server's to wait for) get the
	// grace period too: the cut above ends those still open with
	// UNAVAILABLE, as it does gRPC streams.
	handlersDone := make(chan struct{})
	go func() {
		s.rest.calls.Wait()
		if s.grpcWeb != nil {
			s.grpcWeb.calls.Wait()
		}
		close(handlersDone)
	}()
	select {
	case <-handlersDone:
	case <-ctx.Done():
	}
	s.stopCall(call.ErrShuttingDown)
	ended := ""
	if ctx.Err() != nil {
		ended = "the grace period ended: calls still running were cut"
	}
	s.auditDrain(ctx, "ended", ended)
	var errs []error
	if httpErr != nil && !errors.Is(httpErr, context.DeadlineExceeded) {
		errs = append(errs, httpErr)
	}
	if s.adminSrv != nil {
		errs = append(errs, s.adminSrv.Shutdown(ctx))
	}
	s.health.stop()
	errs = append(errs, s.snap.Load().Close())
	for _, c := range s.closers {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// closeAll undoes a New that failed half-way.
func (s *Server) closeAll() {
	for _, l := range s.listeners {
		_ = l.Close()
	}
	if s.grpcWebLis != nil {
		_ = s.grpcWebLis.Close()
	}
	for _, c := range s.closers {
		_ = c.Close()
	}
	s.health.stop()
}

// newHTTPServer serves door, wrapped in the middleware, with the
// listener's limits.
func (s *Server) newHTTPServer(door http.Handler, middleware []func(http.Handler) http.Handler) *http.Server {
	handler := door
	for i := len(middleware) - 1; i >= 0; i-- {
		handler = middleware[i](handler)
	}
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: s.limits.ReadHeaderTimeout,
		IdleTimeout:       s.limits.IdleTimeout,
		// net/http answers a request whose head exceeds this with a plain
		// 431 before any handler runs; the slack lets the door itself
		// answer a long path (414) or large headers (431) in JSON.
		MaxHeaderBytes: s.limits.MaxHeaderBytes + s.limits.MaxPathBytes + 64<<10,
		HTTP2:          &http.HTTP2Config{MaxConcurrentStreams: int(s.limits.MaxConcurrentStreams)},
		BaseContext:    func(net.Listener) context.Context { return s.stopCtx },
		ErrorLog:       slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
}
