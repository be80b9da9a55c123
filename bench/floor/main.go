// Command floor is the REST benchmark's floor: the least any REST→gRPC
// proxy built on net/http and grpc-go can do for one call. It answers
// every request on its HTTP server with one grpc-go client call of
// -method to the backend, sending -request (the request message, already
// encoded: hex of its wire bytes) and writing the response message's bytes
// as received — no routing, no JSON, no mapping, no policy. What it costs
// per call is the cost of the two stacks themselves; go run ./bench
// compares Portico's REST door with it.
//
//	floor -backend 127.0.0.1:50051 -method /example.bookstore.v1.BookstoreService/GetBook -request 0a11... -listen 127.0.0.1:0
//
// It prints "listening on ADDR" once it accepts connections and stops on
// SIGINT or SIGTERM.
package main

import (
	"encoding/hex"
	"flag"
	"log"
	"net/http"

	"github.com/portico-gw/portico/internal/lifecycle"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
)

func main() {
	backend := flag.String("backend", "127.0.0.1:50051", "gRPC backend (host:port)")
	method := flag.String("method", "/example.bookstore.v1.BookstoreService/GetBook", "gRPC method called for every request")
	request := flag.String("request", "", "the request message's wire bytes, in hex")
	listen := flag.String("listen", "127.0.0.1:0", "listen address (host:port)")
	flag.Parse()
	req, err := hex.DecodeString(*request)
	if err != nil {
		log.Fatalf("floor: -request: %v", err)
	}
	conn, err := grpc.NewClient("passthrough:///"+*backend,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodecV2(raw{})))
	if err != nil {
		log.Fatalf("floor: %v", err)
	}
	defer conn.Close()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var resp mem.BufferSlice
		if err := conn.Invoke(r.Context(), *method, req, &resp); err != nil {
			http.Error(w, status.Convert(err).Message(), http.StatusBadGateway)
			return
		}
		defer resp.Free()
		w.Header().Set("Content-Type", "application/x-protobuf")
		for _, b := range resp {
			_, _ = w.Write(b.ReadOnlyData())
		}
	})
	if err := lifecycle.ListenAndServe(*listen, h); err != nil {
		log.Fatalf("floor: %v", err)
	}
}

// raw is a grpc-go codec that sends a []byte as it is and keeps the
// response's buffers as received (grpc-go has no pass-through codec).
type raw struct{}

var _ encoding.CodecV2 = raw{}

func (raw) Name() string { return "proto" }

func (raw) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(v.([]byte))}, nil
}

func (raw) Unmarshal(data mem.BufferSlice, v any) error {
	data.Ref() // held until the handler has written them
	*v.(*mem.BufferSlice) = data
	return nil
}
