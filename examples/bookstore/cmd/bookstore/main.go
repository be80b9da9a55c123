// Command bookstore serves the example BookstoreService, seeded with sample
// data, on a local address until it receives SIGINT or SIGTERM:
//
//	bookstore -listen 127.0.0.1:50051
//
// It prints "bookstore listening on ADDR" once it accepts connections, so a
// script can start it with -listen 127.0.0.1:0 and read the port.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/portico-gw/portico/examples/bookstore"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:50051", "address to listen on (host:port; port 0 picks a free one)")
	flag.Parse()
	if err := run(*listen); err != nil {
		log.Fatalf("bookstore: %v", err)
	}
}

func run(addr string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := bookstore.Serve(lis)
	fmt.Printf("bookstore listening on %s\n", lis.Addr())

	<-ctx.Done()
	stop() // a second signal kills the process at once

	done := make(chan struct{})
	go func() {
		srv.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		srv.Stop()
	}
	return nil
}
