package server_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	"github.com/portico-gw/portico/server/servertest"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// holdingBackend is a bookstore whose methods, once they hold the call
// (the request, or a client stream's first message), wait until the
// call's context ends and record when it did: what a client's
// cancellation must reach.
type holdingBackend struct {
	bookstorev1.UnimplementedBookstoreServiceServer
	held chan string    // the method, once it holds the call
	done chan time.Time // when its context ended
}

// startHoldingBackend serves a holdingBackend on a :0 port and starts a
// gateway in front of it.
func startHoldingBackend(t *testing.T) (*holdingBackend, *servertest.Env) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &holdingBackend{held: make(chan string, 1), done: make(chan time.Time, 1)}
	gs := grpc.NewServer()
	bookstorev1.RegisterBookstoreServiceServer(gs, b)
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	return b, servertest.StartGateway(t, lis.Addr().String(), servertest.Options{})
}

func (b *holdingBackend) hold(ctx context.Context, method string) {
	b.held <- method
	<-ctx.Done()
	b.done <- time.Now()
}

func (b *holdingBackend) GetShelf(ctx context.Context, _ *bookstorev1.GetShelfRequest) (*bookstorev1.Shelf, error) {
	b.hold(ctx, "GetShelf")
	return nil, ctx.Err()
}

func (b *holdingBackend) DeleteShelf(ctx context.Context, _ *bookstorev1.DeleteShelfRequest) (*emptypb.Empty, error) {
	b.hold(ctx, "DeleteShelf")
	return nil, ctx.Err()
}

func (b *holdingBackend) MoveBook(ctx context.Context, _ *bookstorev1.MoveBookRequest) (*bookstorev1.Book, error) {
	b.hold(ctx, "MoveBook")
	return nil, ctx.Err()
}

func (b *holdingBackend) WatchBooks(_ *bookstorev1.WatchBooksRequest, ss grpc.ServerStreamingServer[bookstorev1.Book]) error {
	b.hold(ss.Context(), "WatchBooks")
	return ss.Context().Err()
}

func (b *holdingBackend) ImportBooks(ss grpc.ClientStreamingServer[bookstorev1.CreateBookRequest, bookstorev1.ImportBooksResponse]) error {
	if _, err := ss.Recv(); err != nil {
		return err
	}
	b.hold(ss.Context(), "ImportBooks")
	return ss.Context().Err()
}

func (b *holdingBackend) LookupBooks(ss grpc.BidiStreamingServer[bookstorev1.GetBookRequest, bookstorev1.Book]) error {
	if _, err := ss.Recv(); err != nil {
		return err
	}
	b.hold(ss.Context(), "LookupBooks")
	return ss.Context().Err()
}

// cancelled waits for the backend to hold a call of method, runs cancel
// (the client goes away), and returns how long the backend's context took
// to end after that.
func (b *holdingBackend) cancelled(t *testing.T, method string, cancel func()) time.Duration {
	t.Helper()
	select {
	case got := <-b.held:
		if got != method {
			t.Fatalf("the backend holds %s, want %s", got, method)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s never reached the backend", method)
	}
	start := time.Now()
	cancel()
	select {
	case end := <-b.done:
		return end.Sub(start)
	case <-time.After(5 * time.Second):
		t.Errorf("%s: the backend's context did not end within 5s of the client going away", method)
		return 5 * time.Second
	}
}

// restCall is a REST request the client gives up on: body, when not nil,
// is sent first and the body is then held open (a stream the client is
// still writing) until the client goes away.
type restCancel struct {
	method, path, body string
	open               bool // keep the body open after body
}

// start sends the request in the background on a connection of its own;
// the returned func makes the client go away.
func (c restCancel) start(t *testing.T, base string) (cancel func()) {
	t.Helper()
	ctx, cancelCtx := context.WithCancel(context.Background())
	var body io.Reader
	var pw *io.PipeWriter
	switch {
	case c.open:
		var pr *io.PipeReader
		pr, pw = io.Pipe()
		body = pr
		go func() { _, _ = io.WriteString(pw, c.body) }()
	case c.body != "":
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, base+c.path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	t.Cleanup(func() {
		cancelCtx()
		if pw != nil {
			pw.Close()
		}
		<-done
	})
	return cancelCtx
}
