package bookstore

import (
	"context"
	"errors"
	"io"
	"slices"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/api/httpbody"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
)

// unaryCall is one valid call of a unary method.
type unaryCall struct {
	method string
	call   func(context.Context, bookstorev1.BookstoreServiceClient, ...grpc.CallOption) error
}

// unaryCalls holds a valid call of every unary method.
var unaryCalls = []unaryCall{
	{"ListShelves", func(ctx context.Context, c bookstorev1.BookstoreServiceClient, o ...grpc.CallOption) error {
		_, err := c.ListShelves(ctx, &bookstorev1.ListShelvesRequest{}, o...)
		return err
	}},
	{"CreateShelf", func(ctx context.Context, c bookstorev1.BookstoreServiceClient, o ...grpc.CallOption) error {
		_, err := c.CreateShelf(ctx, &bookstorev1.CreateShelfRequest{Shelf: &bookstorev1.Shelf{Theme: "t"}}, o...)
		return err
	}},
	{"GetShelf", func(ctx context.Context, c bookstorev1.BookstoreServiceClient, o ...grpc.CallOption) error {
		_, err := c.GetShelf(ctx, &bookstorev1.GetShelfRequest{Shelf: 1}, o...)
		return err
	}},
	{"DeleteShelf", func(ctx context.Context, c bookstorev1.BookstoreServiceClient, o ...grpc.CallOption) error {
		_, err := c.DeleteShelf(ctx, &bookstorev1.DeleteShelfRequest{Shelf: 2}, o...)
		return err
	}},
	{"ListBooks", func(ctx context.Context, c bookstorev1.BookstoreServiceClient, o ...grpc.CallOption) error {
		_, err := c.ListBooks(ctx, &bookstorev1.ListBooksRequest{Parent: "shelves/1"}, o...)
		return err
	}},
	{"CreateBook", func(ctx context.Context, c bookstorev1.BookstoreServiceClient, o ...grpc.CallOption) error {
		_, err := c.CreateBook(ctx, &bookstorev1.CreateBookRequest{Parent: "shelves/1", Book: &bookstorev1.Book{Title: "t"}}, o...)
		return err
	}},
	{"GetBook", func(ctx context.Context, c bookstorev1.BookstoreServiceClient, o ...grpc.CallOption) error {
		_, err := c.GetBook(ctx, &bookstorev1.GetBookRequest{Name: "shelves/1/books/1"}, o...)
		return err
	}},
	{"UpdateBook", func(ctx context.Context, c bookstorev1.BookstoreServiceClient, o ...grpc.CallOption) error {
		_, err := c.UpdateBook(ctx, &bookstorev1.UpdateBookRequest{
			Book:       &bookstorev1.Book{Name: "shelves/1/books/1", Title: "t"},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"title"}},
		}, o...)
		return err
	}},
	{"DeleteBook", func(ctx context.Context, c bookstorev1.BookstoreServiceClient, o ...grpc.CallOption) error {
		_, err := c.DeleteBook(ctx, &bookstorev1.DeleteBookRequest{Name: "shelves/1/books/2"}, o...)
		return err
	}},
	{"MoveBook", func(ctx context.Context, c bookstorev1.BookstoreServiceClient, o ...grpc.CallOption) error {
		_, err := c.MoveBook(ctx, &bookstorev1.MoveBookRequest{Name: "shelves/1/books/1", OtherShelf: "shelves/2"}, o...)
		return err
	}},
	{"GetBookCover", func(ctx context.Context, c bookstorev1.BookstoreServiceClient, o ...grpc.CallOption) error {
		_, err := c.GetBookCover(ctx, &bookstorev1.GetBookCoverRequest{Name: "shelves/1/books/1"}, o...)
		return err
	}},
	{"UploadBookCover", func(ctx context.Context, c bookstorev1.BookstoreServiceClient, o ...grpc.CallOption) error {
		_, err := c.UploadBookCover(ctx, &bookstorev1.UploadBookCoverRequest{Name: "shelves/1/books/1", Cover: &httpbody.HttpBody{Data: []byte("x")}}, o...)
		return err
	}},
	{"GetShelfStats", func(ctx context.Context, c bookstorev1.BookstoreServiceClient, o ...grpc.CallOption) error {
		_, err := c.GetShelfStats(ctx, &bookstorev1.GetShelfStatsRequest{Shelf: 1}, o...)
		return err
	}},
	{"Reindex", func(ctx context.Context, c bookstorev1.BookstoreServiceClient, o ...grpc.CallOption) error {
		_, err := c.Reindex(ctx, &bookstorev1.ReindexRequest{}, o...)
		return err
	}},
}

func TestUnaryCallsCoverService(t *testing.T) {
	var unary []string
	for _, m := range bookstorev1.BookstoreService_ServiceDesc.Methods {
		unary = append(unary, m.MethodName)
	}
	var tested []string
	for _, uc := range unaryCalls {
		tested = append(tested, uc.method)
	}
	slices.Sort(unary)
	slices.Sort(tested)
	if !slices.Equal(tested, unary) {
		t.Errorf("unaryCalls covers %v, want every unary method %v", tested, unary)
	}
}

func TestEchoAndServedBy(t *testing.T) {
	for _, uc := range unaryCalls {
		t.Run(uc.method, func(t *testing.T) {
			_, c := newTestClient(t)
			ctx := metadata.AppendToOutgoingContext(testContext(t), "x-echo", "hello", "x-echo", "again")
			var header, trailer metadata.MD
			if err := uc.call(ctx, c, grpc.Header(&header), grpc.Trailer(&trailer)); err != nil {
				t.Fatalf("%s: %v", uc.method, err)
			}
			if got, want := header.Get("x-echo"), []string{"hello", "again"}; !slices.Equal(got, want) {
				t.Errorf("header x-echo = %q, want %q", got, want)
			}
			if got, want := trailer.Get("x-served-by"), []string{"bookstore"}; !slices.Equal(got, want) {
				t.Errorf("trailer x-served-by = %q, want %q", got, want)
			}
		})
	}
}

func TestNoEchoWithoutKey(t *testing.T) {
	_, c := newTestClient(t)
	var header metadata.MD
	if _, err := c.ListShelves(testContext(t), &bookstorev1.ListShelvesRequest{}, grpc.Header(&header)); err != nil {
		t.Fatalf("ListShelves: %v", err)
	}
	if got := header.Get("x-echo"); len(got) != 0 {
		t.Errorf("header x-echo = %q, want none", got)
	}
}

// TestEchoOnError checks that a failing call still carries the echoed
// header and the trailer.
func TestEchoOnError(t *testing.T) {
	_, c := newTestClient(t)
	ctx := metadata.AppendToOutgoingContext(testContext(t), "x-echo", "e")
	var header, trailer metadata.MD
	_, err := c.GetShelf(ctx, &bookstorev1.GetShelfRequest{Shelf: 99}, grpc.Header(&header), grpc.Trailer(&trailer))
	wantCode(t, err, codes.NotFound)
	if got, want := header.Get("x-echo"), []string{"e"}; !slices.Equal(got, want) {
		t.Errorf("header x-echo = %q, want %q", got, want)
	}
	if got, want := trailer.Get("x-served-by"), []string{"bookstore"}; !slices.Equal(got, want) {
		t.Errorf("trailer x-served-by = %q, want %q", got, want)
	}
}

// wantForced fails the test unless err is the forced failure with code want.
func wantForced(t *testing.T, err error, want codes.Code) {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != want || st.Message() != "forced failure" {
		t.Fatalf("got %v %q, want %v %q", st.Code(), st.Message(), want, "forced failure")
	}
	details := st.Details()
	if len(details) != 1 {
		t.Fatalf("got details %v, want one ErrorInfo", details)
	}
	info, ok := details[0].(*errdetails.ErrorInfo)
	if !ok {
		t.Fatalf("got detail %T, want *errdetails.ErrorInfo", details[0])
	}
	wantProto(t, info, &errdetails.ErrorInfo{Reason: "FORCED", Domain: "bookstore.example"})
}

func TestFailEveryUnaryMethod(t *testing.T) {
	for _, uc := range unaryCalls {
		t.Run(uc.method, func(t *testing.T) {
			s, c := newTestClient(t)
			ctx := metadata.AppendToOutgoingContext(testContext(t), "x-fail", "5")
			var trailer metadata.MD
			err := uc.call(ctx, c, grpc.Trailer(&trailer))
			wantForced(t, err, codes.NotFound)
			if got, want := trailer.Get("x-served-by"), []string{"bookstore"}; !slices.Equal(got, want) {
				t.Errorf("trailer x-served-by = %q, want %q", got, want)
			}
			if got, want := s.Calls(), int64(1); got != want {
				t.Errorf("Calls() = %d, want %d", got, want)
			}
		})
	}
}

// TestFailHasNoSideEffects checks that a forced failure happens before the
// method does anything.
func TestFailHasNoSideEffects(t *testing.T) {
	_, c := newTestClient(t)
	ctx := testContext(t)
	failing := metadata.AppendToOutgoingContext(ctx, "x-fail", "UNAVAILABLE")
	_, err := c.DeleteShelf(failing, &bookstorev1.DeleteShelfRequest{Shelf: 1})
	wantForced(t, err, codes.Unavailable)
	if _, err := c.GetShelf(ctx, &bookstorev1.GetShelfRequest{Shelf: 1}); err != nil {
		t.Errorf("GetShelf after a forced-failing DeleteShelf: %v", err)
	}
}

func TestFailCodes(t *testing.T) {
	_, c := newTestClient(t)
	tests := []struct {
		value  string
		want   codes.Code
		forced bool
	}{
		{"5", codes.NotFound, true},
		{"NOT_FOUND", codes.NotFound, true},
		{"not_found", codes.NotFound, true},
		{"14", codes.Unavailable, true},
		{"PERMISSION_DENIED", codes.PermissionDenied, true},
		{"16", codes.Unauthenticated, true},
		{" 13 ", codes.Internal, true},
		{"0", codes.OK, false},
		{"OK", codes.OK, false},
		{"17", codes.InvalidArgument, false},
		{"-1", codes.InvalidArgument, false},
		{"NotFound", codes.InvalidArgument, false},
		{"bogus", codes.InvalidArgument, false},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			ctx := metadata.AppendToOutgoingContext(testContext(t), "x-fail", tt.value)
			_, err := c.ListShelves(ctx, &bookstorev1.ListShelvesRequest{})
			if tt.forced {
				wantForced(t, err, tt.want)
				return
			}
			wantCode(t, err, tt.want)
		})
	}
}

func TestDelay(t *testing.T) {
	_, c := newTestClient(t)

	ctx, cancel := context.WithTimeout(testContext(t), 20*time.Millisecond)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "x-delay", "10s")
	start := time.Now()
	_, err := c.GetBook(ctx, &bookstorev1.GetBookRequest{Name: "shelves/1/books/1"})
	wantCode(t, err, codes.DeadlineExceeded)
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("call took %v, want it to end at the deadline", elapsed)
	}

	ctx = metadata.AppendToOutgoingContext(testContext(t), "x-delay", "1ms")
	if _, err := c.GetBook(ctx, &bookstorev1.GetBookRequest{Name: "shelves/1/books/1"}); err != nil {
		t.Errorf("GetBook with a 1ms delay: %v", err)
	}

	ctx = metadata.AppendToOutgoingContext(testContext(t), "x-delay", "soon")
	_, err = c.GetBook(ctx, &bookstorev1.GetBookRequest{Name: "shelves/1/books/1"})
	wantCode(t, err, codes.InvalidArgument)

	ctx = metadata.AppendToOutgoingContext(testContext(t), "x-delay", "1ms", "x-fail", "ABORTED")
	_, err = c.GetBook(ctx, &bookstorev1.GetBookRequest{Name: "shelves/1/books/1"})
	wantForced(t, err, codes.Aborted)
}

// TestDelayRespectsContext checks on the server side that a delayed method
// returns the context's status as soon as the call ends.
func TestDelayRespectsContext(t *testing.T) {
	s := NewServer()
	incoming := metadata.NewIncomingContext(context.Background(), metadata.Pairs("x-delay", "1h"))

	ctx, cancel := context.WithTimeout(incoming, 10*time.Millisecond)
	defer cancel()
	_, err := s.ListShelves(ctx, &bookstorev1.ListShelvesRequest{})
	wantCode(t, err, codes.DeadlineExceeded)

	ctx, cancel = context.WithCancel(incoming)
	time.AfterFunc(10*time.Millisecond, cancel)
	_, err = s.ListShelves(ctx, &bookstorev1.ListShelvesRequest{})
	wantCode(t, err, codes.Canceled)
}

func TestStreamMetadata(t *testing.T) {
	_, c := newTestClient(t)
	ctx := metadata.AppendToOutgoingContext(testContext(t), "x-echo", "s")
	stream, err := c.WatchBooks(ctx, &bookstorev1.WatchBooksRequest{Parent: "shelves/1"})
	if err != nil {
		t.Fatalf("WatchBooks: %v", err)
	}
	header, err := stream.Header()
	if err != nil {
		t.Fatalf("Header: %v", err)
	}
	if got, want := header.Get("x-echo"), []string{"s"}; !slices.Equal(got, want) {
		t.Errorf("header x-echo = %q, want %q", got, want)
	}
	for {
		if _, err := stream.Recv(); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("Recv: %v", err)
		}
	}
	if got, want := stream.Trailer().Get("x-served-by"), []string{"bookstore"}; !slices.Equal(got, want) {
		t.Errorf("trailer x-served-by = %q, want %q", got, want)
	}

	ctx = metadata.AppendToOutgoingContext(testContext(t), "x-fail", "RESOURCE_EXHAUSTED")
	lookup, err := c.LookupBooks(ctx)
	if err != nil {
		t.Fatalf("LookupBooks: %v", err)
	}
	_, err = lookup.Recv()
	wantForced(t, err, codes.ResourceExhausted)

	imp, err := c.ImportBooks(ctx)
	if err != nil {
		t.Fatalf("ImportBooks: %v", err)
	}
	_, err = imp.CloseAndRecv()
	wantForced(t, err, codes.ResourceExhausted)
}
