package validate

import (
	"context"
	"errors"
	"io"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/portico-gw/portico/catalog"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	"github.com/portico-gw/portico/pipeline"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// bookstoreMethods returns the bookstore's catalog methods by name.
func bookstoreMethods(t *testing.T) map[string]*catalog.Method {
	t.Helper()
	c, err := catalog.New(catalog.Options{APIs: []catalog.API{{
		Where: "apis[0]", Services: []string{"example.bookstore.v1.BookstoreService"}, Backend: nopBackend{},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*catalog.Method{}
	for _, m := range c.Methods() {
		out[string(m.Desc().Name())] = m
	}
	return out
}

type nopBackend struct{}

func (nopBackend) Unary(context.Context, *catalog.Method, proto.Message) (proto.Message, error) {
	return nil, errors.New("not called")
}

func (nopBackend) Stream(context.Context, *catalog.Method, grpc.ServerStream) error {
	return errors.New("not called")
}

func newInterceptor(t *testing.T) *Interceptor {
	t.Helper()
	ic, err := New()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return ic
}

// stage returns the interceptor's stage for m, failing the test on a
// build error.
func stage(t *testing.T, ic *Interceptor, m *catalog.Method) pipeline.Stage {
	t.Helper()
	st, err := ic.Stage(m)
	if err != nil {
		t.Fatalf("Stage(%s): %v", m.FullMethod(), err)
	}
	return st
}

// violations checks err is InvalidArgument with a BadRequest detail, and
// returns the detail's field paths, sorted.
func violations(t *testing.T, err error) []string {
	t.Helper()
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.InvalidArgument {
		t.Fatalf("got %v, want InvalidArgument", err)
	}
	if !strings.HasPrefix(st.Message(), "invalid request: ") {
		t.Errorf("got message %q, want prefix %q", st.Message(), "invalid request: ")
	}
	var fields []string
	found := false
	for _, d := range st.Details() {
		br, ok := d.(*errdetails.BadRequest)
		if !ok {
			continue
		}
		found = true
		for _, v := range br.GetFieldViolations() {
			fields = append(fields, v.GetField())
			if v.GetDescription() == "" {
				t.Errorf("field %q: empty description", v.GetField())
			}
			if want := v.GetField() + ": " + v.GetDescription(); v.GetField() != "" && !strings.Contains(st.Message(), want) {
				t.Errorf("message %q does not contain %q", st.Message(), want)
			}
		}
	}
	if !found {
		t.Fatalf("got details %v, want a google.rpc.BadRequest", st.Details())
	}
	sort.Strings(fields)
	return fields
}

func TestUnary(t *testing.T) {
	methods := bookstoreMethods(t)
	ic := newInterceptor(t)
	long := strings.Repeat("x", 201)
	tests := []struct {
		name       string
		method     string
		req        proto.Message
		wantFields []string // nil: the handler runs
	}{
		{"valid", "CreateShelf", &bookstorev1.CreateShelfRequest{Shelf: &bookstorev1.Shelf{Theme: "Poetry"}}, nil},
		{"required field", "CreateShelf", &bookstorev1.CreateShelfRequest{}, []string{"shelf"}},
		{"nested field", "CreateShelf", &bookstorev1.CreateShelfRequest{Shelf: &bookstorev1.Shelf{}}, []string{"shelf.theme"}},
		{"several fields", "ListBooks", &bookstorev1.ListBooksRequest{Parent: "nope", PageSize: 5000}, []string{"page_size", "parent"}},
		{"deep fields", "CreateBook", &bookstorev1.CreateBookRequest{
			Parent: "shelves/1",
			Book:   &bookstorev1.Book{Title: long, TopReview: &bookstorev1.Review{Stars: 9}},
		}, []string{"book.title", "book.top_review.stars"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := methods[tt.method]
			st := stage(t, ic, m)
			if st.Unary == nil || st.Stream == nil {
				t.Fatalf("%s has rules but got stage %+v", tt.method, st)
			}
			called := false
			want := &bookstorev1.Shelf{Id: 1}
			resp, err := st.Unary(context.Background(), tt.req, m.UnaryInfo(), func(_ context.Context, req any) (any, error) {
				called = true
				if req != tt.req {
					t.Errorf("handler got %v, want the request", req)
				}
				return want, nil
			})
			if tt.wantFields == nil {
				if err != nil || !called || resp != want {
					t.Errorf("got %v, %v (handler called: %v), want the handler's response", resp, err, called)
				}
				return
			}
			if called {
				t.Error("handler called for an invalid request")
			}
			if resp != nil {
				t.Errorf("got response %v, want nil", resp)
			}
			if got := violations(t, err); !slices.Equal(got, tt.wantFields) {
				t.Errorf("got fields %q, want %q", got, tt.wantFields)
			}
		})
	}
}

// fakeStream delivers msgs, then io.EOF.
type fakeStream struct {
	grpc.ServerStream
	msgs []proto.Message
}

func (s *fakeStream) Context() context.Context { return context.Background() }

func (s *fakeStream) RecvMsg(m any) error {
	if len(s.msgs) == 0 {
		return io.EOF
	}
	proto.Merge(m.(proto.Message), s.msgs[0])
	s.msgs = s.msgs[1:]
	return nil
}

func TestStream(t *testing.T) {
	methods := bookstoreMethods(t)
	ic := newInterceptor(t)
	ss := &fakeStream{msgs: []proto.Message{
		&bookstorev1.GetBookRequest{Name: "shelves/1/books/1"},
		&bookstorev1.GetBookRequest{},
		&bookstorev1.GetBookRequest{Name: "shelves/1/books/2"},
	}}
	var errs []error
	err := stage(t, ic, methods["LookupBooks"]).Stream(nil, ss, methods["LookupBooks"].StreamInfo(), func(_ any, s grpc.ServerStream) error {
		for {
			err := s.RecvMsg(&bookstorev1.GetBookRequest{})
			if errors.Is(err, io.EOF) {
				return nil
			}
			errs = append(errs, err)
		}
	})
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}
	if len(errs) != 3 {
		t.Fatalf("got %d messages, want 3", len(errs))
	}
	if errs[0] != nil || errs[2] != nil {
		t.Errorf("valid messages: got %v and %v, want nil", errs[0], errs[2])
	}
	if got := violations(t, errs[1]); !slices.Equal(got, []string{"name"}) {
		t.Errorf("got fields %q, want [name]", got)
	}
}

// TestNoRulesNoStage: a method whose request type has no rules gets no
// interceptor at all, so it costs nothing per call.
func TestNoRulesNoStage(t *testing.T) {
	methods := bookstoreMethods(t)
	ic := newInterceptor(t)
	for _, name := range []string{"GetShelfStats", "ListShelves"} {
		if st := stage(t, ic, methods[name]); st.Gate != nil || st.Unary != nil || st.Stream != nil {
			t.Errorf("%s: got stage %+v, want none", name, st)
		}
	}
}

// TestDescriptorOnly: rules of a message known only from a descriptor,
// with its options still unknown bytes, are found and enforced on dynamic
// messages.
func TestDescriptorOnly(t *testing.T) {
	fd := buildFile(t, testFile(), true)
	md := fd.Messages().ByName("FieldRule")
	m := methodWith(t, md)
	req := dynamicpb.NewMessage(md)
	req.Set(md.Fields().ByName("name"), protoreflect.ValueOfString("toolong"))
	_, err := stage(t, newInterceptor(t), m).Unary(context.Background(), req, m.UnaryInfo(), func(context.Context, any) (any, error) {
		t.Error("handler called for an invalid request")
		return nil, nil
	})
	if got := violations(t, err); !slices.Equal(got, []string{"name"}) {
		t.Errorf("got fields %q, want [name]", got)
	}
}

// TestNewCompilationError: a rule that cannot compile is found by New.
func TestNewCompilationError(t *testing.T) {
	fd := buildFile(t, testFile(), false)
	md := fd.Messages().ByName("Mismatched")
	m := methodWith(t, md)
	st, err := newInterceptor(t).Stage(m)
	if err == nil {
		t.Fatalf("got %+v and no error, want a compilation error", st)
	}
	if want := "validate: portico.test.validate.Mismatched: "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %q, want prefix %q", err, want)
	}
	if !strings.Contains(err.Error(), "compilation error") {
		t.Errorf("got %q, want a compilation error", err)
	}
}

// TestRuntimeError: a rule that fails to evaluate leaves the request
// unjudged: INVALID_ARGUMENT without details, and the backend is not
// called.
func TestRuntimeError(t *testing.T) {
	fd := buildFile(t, testFile(), false)
	md := fd.Messages().ByName("RuntimeError")
	m := methodWith(t, md)
	_, err := stage(t, newInterceptor(t), m).Unary(context.Background(), dynamicpb.NewMessage(md), m.UnaryInfo(), func(context.Context, any) (any, error) {
		t.Error("handler called for a request whose rules failed")
		return nil, nil
	})
	st := status.Convert(err)
	if st.Code() != codes.InvalidArgument || st.Message() != "invalid request: rules could not be evaluated" {
		t.Errorf("got %v %q, want InvalidArgument %q", st.Code(), st.Message(), "invalid request: rules could not be evaluated")
	}
	if len(st.Details()) != 0 {
		t.Errorf("got details %v, want none", st.Details())
	}
}

// methodWith is a method /portico.test.validate.S/M whose request is md,
// a type known only from its descriptor (served with dynamicpb).
func methodWith(t *testing.T, md protoreflect.MessageDescriptor) *catalog.Method {
	t.Helper()
	files := new(protoregistry.Files)
	if err := files.RegisterFile(md.ParentFile()); err != nil {
		t.Fatal(err)
	}
	in := "." + string(md.FullName())
	fd, err := protodesc.NewFile(&descriptorpb.FileDescriptorProto{
		Name: proto.String("portico/test/validate/s.proto"), Package: proto.String("portico.test.validate"), Syntax: proto.String("proto3"),
		Dependency: []string{md.ParentFile().Path()},
		Service: []*descriptorpb.ServiceDescriptorProto{{Name: proto.String("S"), Method: []*descriptorpb.MethodDescriptorProto{
			{Name: proto.String("M"), InputType: proto.String(in), OutputType: proto.String(in)},
		}}},
	}, files)
	if err != nil {
		t.Fatal(err)
	}
	m, err := catalog.NewMethod(fd.Services().Get(0).Methods().Get(0), nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
