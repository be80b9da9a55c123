package mock

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/portico-gw/portico/catalog"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/integrations"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

const svc = "example.bookstore.v1.BookstoreService."

func newMock(t *testing.T, rs ...*configv1.MockResponse) (*Integration, error) {
	t.Helper()
	b, err := Factory(integrations.Env{}, &configv1.Integration{Name: "stub", Kind: &configv1.Integration_Mock{Mock: &configv1.MockIntegration{Responses: rs}}})
	if err != nil {
		return nil, err
	}
	return b.(*Integration), nil
}

// methods returns the bookstore's methods, routed to backend.
func methods(t *testing.T, backend catalog.Backend) map[string]*catalog.Method {
	t.Helper()
	cat, err := catalog.New(catalog.Options{APIs: []catalog.API{{Where: "apis[0]", Services: []string{"example.bookstore.v1.BookstoreService"}, Backend: backend, BackendName: "stub"}}})
	if err != nil {
		t.Fatal(err)
	}
	return cat.Methods()
}

func method(t *testing.T, ms map[string]*catalog.Method, name string) *catalog.Method {
	t.Helper()
	m, ok := ms["/example.bookstore.v1.BookstoreService/"+name]
	if !ok {
		t.Fatalf("no method %s", name)
	}
	return m
}

func TestFactoryErrors(t *testing.T) {
	tests := []struct {
		name string
		rs   []*configv1.MockResponse
		want string
	}{
		{"not a full name", []*configv1.MockResponse{{Selector: "GetShelf", Json: "{}"}}, "is not a method selector"},
		{"twice", []*configv1.MockResponse{{Selector: svc + "GetShelf"}, {Selector: svc + "GetShelf"}}, "has a response already"},
		{"bad code", []*configv1.MockResponse{{Selector: svc + "GetShelf", Code: "MISSING"}}, `"MISSING" is not a gRPC code name`},
		{"json and failure", []*configv1.MockResponse{{Selector: svc + "GetShelf", Code: "NOT_FOUND", Json: `{"id":"1"}`}}, "exclusive"},
		{"message without code", []*configv1.MockResponse{{Selector: svc + "GetShelf", Message: "gone"}}, "goes with a code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newMock(t, tt.rs...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestCheck: the JSON is checked against the response type when the
// snapshot is built. (A method without a response is not an error: see
// TestRegressMethodWithoutResponseIsNotServed.)
func TestCheck(t *testing.T) {
	tests := []struct {
		name, method, json, want string
	}{
		{"unknown field", "GetShelf", `{"id":"1","colour":"red"}`, `unknown field "colour"`},
		{"wrong type", "GetShelf", `{"id":"one"}`, "invalid value for int64"},
		{"not JSON", "GetShelf", `{`, "unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i, err := newMock(t, &configv1.MockResponse{Selector: svc + "GetShelf", Json: tt.json})
			if err != nil {
				t.Fatal(err)
			}
			err = i.Check(method(t, methods(t, i), tt.method))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestUnary(t *testing.T) {
	i, err := newMock(t,
		&configv1.MockResponse{Selector: svc + "GetShelf", Json: `{"id": "1", "theme": "Mock"}`},
		&configv1.MockResponse{Selector: "." + svc + "DeleteShelf"}, // no JSON: the empty message
		&configv1.MockResponse{Selector: svc + "GetBook", Code: "not_found", Message: "no such book"},
		&configv1.MockResponse{Selector: svc + "CreateShelf", Code: "OK", Json: `{"id":"7"}`},
	)
	if err != nil {
		t.Fatal(err)
	}
	ms := methods(t, i)
	for _, name := range []string{"GetShelf", "DeleteShelf", "GetBook", "CreateShelf"} {
		if err := i.Check(method(t, ms, name)); err != nil {
			t.Fatalf("Check(%s): %v", name, err)
		}
	}
	ctx := context.Background()
	got, err := i.Unary(ctx, method(t, ms, "GetShelf"), &bookstorev1.GetShelfRequest{Shelf: 9})
	if err != nil {
		t.Fatal(err)
	}
	if want := (&bookstorev1.Shelf{Id: 1, Theme: "Mock"}); !proto.Equal(got, want) {
		t.Errorf("GetShelf: got %v, want %v", got, want)
	}
	// Each call gets its own copy.
	got.(*bookstorev1.Shelf).Theme = "changed"
	again, _ := i.Unary(ctx, method(t, ms, "GetShelf"), &bookstorev1.GetShelfRequest{})
	if again.(*bookstorev1.Shelf).GetTheme() != "Mock" {
		t.Error("a caller's change to a response reached the next call")
	}
	if got, err := i.Unary(ctx, method(t, ms, "DeleteShelf"), &bookstorev1.DeleteShelfRequest{}); err != nil || proto.Size(got) != 0 {
		t.Errorf("DeleteShelf: got %v, %v; want an empty message", got, err)
	}
	_, err = i.Unary(ctx, method(t, ms, "GetBook"), &bookstorev1.GetBookRequest{})
	if st := status.Convert(err); st.Code() != codes.NotFound || st.Message() != "no such book" {
		t.Errorf("GetBook: got %v %q, want NotFound %q", st.Code(), st.Message(), "no such book")
	}
	if got, err := i.Unary(ctx, method(t, ms, "CreateShelf"), &bookstorev1.CreateShelfRequest{}); err != nil || got.(*bookstorev1.Shelf).GetId() != 7 {
		t.Errorf("CreateShelf: got %v, %v; want shelf 7", got, err)
	}
}

// stream is a fake server stream: in holds the client's messages.
type stream struct {
	grpc.ServerStream
	in   []proto.Message
	sent []proto.Message
}

func (s *stream) Context() context.Context     { return context.Background() }
func (s *stream) SetHeader(metadata.MD) error  { return nil }
func (s *stream) SendHeader(metadata.MD) error { return nil }
func (s *stream) SetTrailer(metadata.MD)       {}
func (s *stream) SendMsg(m any) error          { s.sent = append(s.sent, m.(proto.Message)); return nil }
func (s *stream) RecvMsg(m any) error {
	if len(s.in) == 0 {
		return io.EOF
	}
	proto.Merge(m.(proto.Message), s.in[0])
	s.in = s.in[1:]
	return nil
}

func TestStream(t *testing.T) {
	i, err := newMock(t,
		&configv1.MockResponse{Selector: svc + "ImportBooks", Json: `{"imported": 2}`},
		&configv1.MockResponse{Selector: svc + "WatchBooks", Json: `{"name": "shelves/1/books/1"}`},
		&configv1.MockResponse{Selector: svc + "LookupBooks", Code: "UNAVAILABLE", Message: "later"},
	)
	if err != nil {
		t.Fatal(err)
	}
	ms := methods(t, i)
	for _, n := range []string{"ImportBooks", "WatchBooks", "LookupBooks"} {
		if err := i.Check(method(t, ms, n)); err != nil {
			t.Fatal(err)
		}
	}
	ss := &stream{in: []proto.Message{&bookstorev1.CreateBookRequest{}, &bookstorev1.CreateBookRequest{}}}
	if err := i.Stream(ss.Context(), method(t, ms, "ImportBooks"), ss); err != nil {
		t.Fatal(err)
	}
	if len(ss.in) != 0 || len(ss.sent) != 1 || ss.sent[0].(*bookstorev1.ImportBooksResponse).GetImported() != 2 {
		t.Errorf("ImportBooks: %d requests left, sent %v; want every request read and one response", len(ss.in), ss.sent)
	}
	ss = &stream{in: []proto.Message{&bookstorev1.WatchBooksRequest{}}}
	if err := i.Stream(ss.Context(), method(t, ms, "WatchBooks"), ss); err != nil || len(ss.sent) != 1 {
		t.Errorf("WatchBooks: got %v and %d messages, want one message", err, len(ss.sent))
	}
	ss = &stream{}
	if err := i.Stream(ss.Context(), method(t, ms, "LookupBooks"), ss); status.Code(err) != codes.Unavailable || len(ss.sent) != 0 {
		t.Errorf("LookupBooks: got %v and %d messages, want Unavailable and none", err, len(ss.sent))
	}
}
