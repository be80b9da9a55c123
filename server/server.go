package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
)

// Server runs the doors over the current snapshot.
type Server struct {
	snap atomic.Pointer[Snapshot]
	log  *slog.Logger

	httpSrv  *http.Server
	grpcSrv  *grpc.Server
	adminSrv *http.Server

	// Addresses actually bound (useful with :0).
	HTTPAddr, GRPCAddr, AdminAddr string

	listeners []net.Listener
	wg        sync.WaitGroup
	errs      chan error
}

// Listen addresses; empty GRPC or Admin means that listener is off.
type Listen struct {
	HTTP, GRPC, Admin string
}

// New binds the listeners for snap. Nothing is served until Serve.
func New(snap *Snapshot, listen Listen, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.Default()
	}
	s := &Server{log: log, errs: make(chan error, 3)}
	s.snap.Store(snap)

	httpLis, err := net.Listen("tcp", listen.HTTP)
	if err != nil {
		return nil, fmt.Errorf("listen.http: %v", err)
	}
	s.listeners = append(s.listeners, httpLis)
	s.HTTPAddr = httpLis.Addr().String()
	s.httpSrv = &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.snap.Load().REST.ServeHTTP(w, r) }),
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	if listen.GRPC != "" {
		lis, err := net.Listen("tcp", listen.GRPC)
		if err != nil {
			s.closeListeners()
			return nil, fmt.Errorf("listen.grpc: %v", err)
		}
		s.listeners = append(s.listeners, lis)
		s.GRPCAddr = lis.Addr().String()
		s.grpcSrv = newGRPCDoor(s.snap.Load)
	}
	if listen.Admin != "" {
		lis, err := net.Listen("tcp", listen.Admin)
		if err != nil {
			s.closeListeners()
			return nil, fmt.Errorf("listen.admin: %v", err)
		}
		s.listeners = append(s.listeners, lis)
		s.AdminAddr = lis.Addr().String()
		s.adminSrv = &http.Server{Handler: s.adminHandler(), ReadHeaderTimeout: 10 * time.Second}
	}
	return s, nil
}

// Snapshot returns the snapshot being served.
func (s *Server) Snapshot() *Snapshot { return s.snap.Load() }

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
	if s.grpcSrv != nil {
		i++
		lis := s.listeners[i]
		run(func() error { return s.grpcSrv.Serve(lis) })
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

// Shutdown stops accepting calls and waits for those in flight (until ctx
// ends), then releases the snapshot.
func (s *Server) Shutdown(ctx context.Context) error {
	var errs []error
	if s.grpcSrv != nil {
		stopped := make(chan struct{})
		go func() { s.grpcSrv.GracefulStop(); close(stopped) }()
		select {
		case <-stopped:
		case <-ctx.Done():
			s.grpcSrv.Stop()
		}
	}
	errs = append(errs, s.httpSrv.Shutdown(ctx))
	if s.adminSrv != nil {
		errs = append(errs, s.adminSrv.Shutdown(ctx))
	}
	errs = append(errs, s.snap.Load().Close())
	return errors.Join(errs...)
}

func (s *Server) closeListeners() {
	for _, l := range s.listeners {
		_ = l.Close()
	}
}
