package server_test

import (
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/portico-gw/portico/examples/bookstore"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	"github.com/portico-gw/portico/server/servertest"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestGRPCDoorUnaryWithMetadata(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	client := bookstorev1.NewBookstoreServiceClient(env.Conn)
	ctx := metadata.AppendToOutgoingContext(ctxT(t), "x-echo", "ping")
	var header, trailer metadata.MD
	book, err := client.GetBook(ctx, &bookstorev1.GetBookRequest{Name: "shelves/1/books/2"}, grpc.Header(&header), grpc.Trailer(&trailer))
	if err != nil {
		t.Fatalf("GetBook: %v", err)
	}
	if book.GetTitle() != "Dune" {
		t.Errorf("title: got %q, want Dune", book.GetTitle())
	}
	if got := header.Get("x-echo"); len(got) != 1 || got[0] != "ping" {
		t.Errorf("header x-echo: got %v, want [ping]", got)
	}
	if got := trailer.Get("x-served-by"); len(got) != 1 || got[0] != "bookstore" {
		t.Errorf("trailer x-served-by: got %v, want [bookstore]", got)
	}
}

func TestGRPCDoorBackendStatusUnchanged(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	client := bookstorev1.NewBookstoreServiceClient(env.Conn)
	ctx := metadata.AppendToOutgoingContext(ctxT(t), "x-fail", "FAILED_PRECONDITION")
	_, err := client.GetShelf(ctx, &bookstorev1.GetShelfRequest{Shelf: 1})
	st := status.Convert(err)
	if st.Code() != codes.FailedPrecondition || st.Message() != "forced failure" {
		t.Fatalf("got %v, want FailedPrecondition forced failure", err)
	}
	var found bool
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetReason() == "FORCED" {
			found = true
		}
	}
	if !found {
		t.Errorf("details: got %v, want the backend's ErrorInfo", st.Details())
	}
}

func TestGRPCDoorValidation(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	client := bookstorev1.NewBookstoreServiceClient(env.Conn)
	before := env.Backend.Calls()
	_, err := client.CreateShelf(ctxT(t), &bookstorev1.CreateShelfRequest{Shelf: &bookstorev1.Shelf{Theme: ""}})
	st := status.Convert(err)
	if st.Code() != codes.InvalidArgument {
		t.Fatalf("got %v, want InvalidArgument", err)
	}
	var br *errdetails.BadRequest
	for _, d := range st.Details() {
		if b, ok := d.(*errdetails.BadRequest); ok {
			br = b
		}
	}
	if br == nil || len(br.GetFieldViolations()) != 1 || br.GetFieldViolations()[0].GetField() != "shelf.theme" {
		t.Fatalf("details: got %v, want one violation on shelf.theme", st.Details())
	}
	if got := env.Backend.Calls(); got != before {
		t.Errorf("backend calls: got %d, want %d (an invalid request must not reach it)", got, before)
	}
}

func TestGRPCDoorStreams(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	client := bookstorev1.NewBookstoreServiceClient(env.Conn)
	ctx := ctxT(t)

	t.Run("server", func(t *testing.T) {
		stream, err := client.WatchBooks(ctx, &bookstorev1.WatchBooksRequest{Parent: "shelves/1"})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for {
			b, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, b.GetName())
		}
		if len(names) != 2 || names[0] != "shelves/1/books/1" {
			t.Errorf("got %v, want the two books of shelf 1", names)
		}
	})
	t.Run("server stream request is validated", func(t *testing.T) {
		before := env.Backend.Calls()
		defer func() {
			if got := env.Backend.Calls(); got != before {
				t.Errorf("backend calls: got %d, want %d (an invalid request must not reach it)", got, before)
			}
		}()
		stream, err := client.WatchBooks(ctx, &bookstorev1.WatchBooksRequest{Parent: "nope"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = stream.Recv()
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("got %v, want InvalidArgument", err)
		}
	})
	t.Run("client", func(t *testing.T) {
		stream, err := client.ImportBooks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, title := range []string{"A", "B", "C"} {
			if err := stream.Send(&bookstorev1.CreateBookRequest{Parent: "shelves/2", Book: &bookstorev1.Book{Title: title}}); err != nil {
				t.Fatal(err)
			}
		}
		resp, err := stream.CloseAndRecv()
		if err != nil {
			t.Fatal(err)
		}
		if resp.GetImported() != 3 {
			t.Errorf("imported: got %d, want 3", resp.GetImported())
		}
	})
	t.Run("bidi", func(t *testing.T) {
		stream, err := client.LookupBooks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"shelves/1/books/1", "shelves/2/books/1"} {
			if err := stream.Send(&bookstorev1.GetBookRequest{Name: name}); err != nil {
				t.Fatal(err)
			}
			b, err := stream.Recv()
			if err != nil {
				t.Fatal(err)
			}
			if b.GetName() != name {
				t.Errorf("got %q, want %q", b.GetName(), name)
			}
		}
		if err := stream.CloseSend(); err != nil {
			t.Fatal(err)
		}
		if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
			t.Errorf("after CloseSend: got %v, want EOF", err)
		}
	})
}

func TestGRPCDoorDeadline(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	client := bookstorev1.NewBookstoreServiceClient(env.Conn)
	ctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(context.Background(), "x-delay", "5s"), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := client.GetShelf(ctx, &bookstorev1.GetShelfRequest{Shelf: 1})
	if status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("got %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v: the client's deadline was not passed on", d)
	}
}

func TestIntegrationTimeoutCapsTheDeadline(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Config: func(c *configv1Config) {
		c.GetIntegrations()[0].GetGrpc().Timeout = durationpb.New(100 * time.Millisecond)
	}})
	client := bookstorev1.NewBookstoreServiceClient(env.Conn)
	ctx := metadata.AppendToOutgoingContext(ctxT(t), "x-delay", "5s")
	_, err := client.GetShelf(ctx, &bookstorev1.GetShelfRequest{Shelf: 1})
	if status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("got %v, want DeadlineExceeded from the integration's 100ms timeout", err)
	}
}

func TestBackendDownThenBack(t *testing.T) {
	// The backend's address is a unix socket nobody listens on yet: the
	// backend is down, and no other process can take the address meanwhile.
	sock := filepath.Join(t.TempDir(), "backend.sock")
	env := servertest.StartGateway(t, "unix://"+sock, servertest.Options{})
	client := bookstorev1.NewBookstoreServiceClient(env.Conn)

	start := time.Now()
	_, err := client.GetShelf(ctxT(t), &bookstorev1.GetShelfRequest{Shelf: 1})
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("backend down: got %v, want Unavailable", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("backend down took %v to fail; want at once", d)
	}
	if msg := status.Convert(err).Message(); msg != "backend unavailable" {
		t.Errorf("message: got %q; internal details must not reach clients", msg)
	}
	resp, body := restGet(t, env.URL+"/v1/shelves/1")
	if resp != 503 {
		t.Errorf("REST with backend down: got %d, want 503: %s", resp, body)
	}

	// The backend comes back on the same address.
	lis, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	gs := bookstore.NewServer().Serve(lis)
	t.Cleanup(gs.Stop)
	// The gateway reconnects with a capped backoff; its health service says
	// when the backend is reachable again, and calls then succeed.
	waitHealth(t, env.Conn, "example.bookstore.v1.BookstoreService", healthpb.HealthCheckResponse_SERVING)
	if _, err := client.GetShelf(ctxT(t), &bookstorev1.GetShelfRequest{Shelf: 1}); err != nil {
		t.Fatalf("backend back and reported SERVING: got %v", err)
	}
}

func TestReflectionAndHealth(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	ctx := ctxT(t)
	// SERVING once the integration has connected to the backend.
	waitHealth(t, env.Conn, "example.bookstore.v1.BookstoreService", healthpb.HealthCheckResponse_SERVING)
	stream, err := reflectionpb.NewServerReflectionClient(env.Conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	want := map[string]bool{"example.bookstore.v1.BookstoreService": false, "grpc.health.v1.Health": false}
	for _, n := range names {
		if _, ok := want[n]; ok {
			want[n] = true
		}
	}
	for n, ok := range want {
		if !ok {
			t.Errorf("reflection lists %v; missing %s", names, n)
		}
	}
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_FileContainingSymbol{
		FileContainingSymbol: "example.bookstore.v1.BookstoreService"}}); err != nil {
		t.Fatal(err)
	}
	resp, err = stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetFileDescriptorResponse().GetFileDescriptorProto()) == 0 {
		t.Errorf("file containing the service: got %v", resp)
	}
}
