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

	"github.com/portico-gw/portico/examples/bookstore"
	"github.com/portico-gw/portico/internal/lifecycle"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:50051", "address to listen on (host:port; port 0 picks a free one)")
	flag.Parse()
	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatalf("bookstore: %v", err)
	}
	srv := bookstore.Serve(lis)
	fmt.Printf("bookstore listening on %s\n", lis.Addr())
	// Never an error: the server already serves, and stopping it cannot fail.
	_ = lifecycle.Run(nil, func(ctx context.Context) error {
		done := make(chan struct{})
		go func() {
			srv.GracefulStop()
			close(done)
		}()
		select {
		case <-done:
		case <-ctx.Done():
			srv.Stop()
		}
		return nil
	})
}
