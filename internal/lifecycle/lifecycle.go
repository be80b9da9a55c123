// Package lifecycle runs the server of a small command (a benchmark
// process, the example backend) until the process is asked to stop:
// SIGINT or SIGTERM stops it gracefully, within a grace period, and a
// second signal kills the process at once.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Grace is how long a server has to stop once asked to.
const Grace = 5 * time.Second

// Run calls serve, until it returns or SIGINT or SIGTERM arrives. On a
// signal it calls shutdown with a context that ends after Grace, and
// returns its error; otherwise it returns serve's. serve may be nil, for a
// server already serving: Run then waits for the signal.
func Run(serve func() error, shutdown func(context.Context) error) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	if serve != nil {
		go func() { errc <- serve() }()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	stop() // a second signal kills the process at once
	sctx, cancel := context.WithTimeout(context.Background(), Grace)
	defer cancel()
	return shutdown(sctx)
}

// ListenAndServe serves h over HTTP on addr (host:port; port 0 picks a
// free one) until SIGINT or SIGTERM, as Run does. Once it accepts
// connections it prints "listening on ADDR", so that a script can start
// it on port 0 and read the port. Calls still running when the grace
// period ends are cut without an error.
func ListenAndServe(addr string, h http.Handler) error {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("listening on %s\n", lis.Addr())
	return Run(func() error { return srv.Serve(lis) }, func(ctx context.Context) error {
		if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return nil
	})
}
