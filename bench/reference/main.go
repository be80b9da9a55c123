// Command reference is the baseline Portico is measured against: the
// grpc-gateway generated REST handlers of the example APIs on a
// runtime.NewServeMux() with grpc-gateway's defaults, in front of a gRPC
// backend.
//
//	reference -backend 127.0.0.1:50051 -listen 127.0.0.1:0
//
// Both the bookstore and the inventory (50 GET routes that exist only to
// make the catalog realistic) are registered, inventory last: grpc-gateway's
// ServeMux tries the most recently registered pattern first, so a bookstore
// request is matched only after the inventory patterns have been scanned.
//
// It prints "listening on ADDR" once it accepts connections, so a script
// can start it with -listen 127.0.0.1:0 and read the port, and it stops on
// SIGINT or SIGTERM.
package main

import (
	"context"
	"flag"
	"log"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	inventoryv1 "github.com/portico-gw/portico/gen/example/inventory/v1"
	"github.com/portico-gw/portico/internal/lifecycle"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

func main() {
	backend := flag.String("backend", "127.0.0.1:50051", "gRPC backend serving the bookstore (host:port)")
	listen := flag.String("listen", "127.0.0.1:8081", "REST listen address (host:port; port 0 picks a free one)")
	flag.Parse()
	if err := run(*backend, *listen); err != nil {
		log.Fatalf("reference: %v", err)
	}
}

func run(backend, addr string) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel() // closes the connections to the backend

	mux := runtime.NewServeMux()
	dial := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if err := bookstorev1.RegisterBookstoreServiceHandlerFromEndpoint(ctx, mux, backend, dial); err != nil {
		return err
	}
	if err := inventoryv1.RegisterInventoryServiceHandlerFromEndpoint(ctx, mux, backend, dial); err != nil {
		return err
	}
	return lifecycle.ListenAndServe(addr, mux)
}
