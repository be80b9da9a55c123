package rules_test

import (
	"context"
	"testing"
	"time"

	"github.com/portico-gw/portico/auth/rules"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func TestUsesRequest(t *testing.T) {
	c, err := rules.NewCompiler()
	if err != nil {
		t.Fatal(err)
	}
	in := (&bookstorev1.DeleteBookRequest{}).ProtoReflect().Descriptor()
	for _, tc := range []struct {
		expr string
		want bool
	}{
		{`"books.read" in claims.scope.split(" ")`, false},
		{`principal == "a" && headers["x-env"] == "prod" && peer.ip.startsWith("10.")`, false},
		{`request.name.startsWith("shelves/" + claims.sub + "/")`, true},
		{`has(request.name)`, true},
	} {
		r, err := c.Compile(tc.expr, in)
		if err != nil {
			t.Fatalf("Compile(%s): %v", tc.expr, err)
		}
		if got := r.UsesRequest(); got != tc.want {
			t.Errorf("UsesRequest(%s): got %v, want %v", tc.expr, got, tc.want)
		}
	}
}

func TestEval(t *testing.T) {
	c, err := rules.NewCompiler()
	if err != nil {
		t.Fatal(err)
	}
	in := (&bookstorev1.DeleteBookRequest{}).ProtoReflect().Descriptor()
	r, err := c.Compile(`request.name.startsWith("shelves/" + claims.sub + "/") && "books.write" in claims.scope.split(" ") && headers["x-env"] == "prod" && peer.ip == "10.0.0.1" && method.endsWith("DeleteBook")`, in)
	if err != nil {
		t.Fatal(err)
	}
	input := func(name, sub string) *rules.Input {
		return &rules.Input{
			Claims:  map[string]any{"sub": sub, "scope": "books.read books.write"},
			Method:  "example.bookstore.v1.BookstoreService.DeleteBook",
			Headers: func() map[string]string { return map[string]string{"x-env": "prod"} },
			PeerIP:  "10.0.0.1",
			Request: &bookstorev1.DeleteBookRequest{Name: name},
		}
	}
	if ok, err := r.Eval(context.Background(), input("shelves/1/books/2", "1")); err != nil || !ok {
		t.Errorf("own shelf: got %v, %v; want true", ok, err)
	}
	if ok, err := r.Eval(context.Background(), input("shelves/1/books/2", "2")); err != nil || ok {
		t.Errorf("another's shelf: got %v, %v; want false", ok, err)
	}
	// A missing claim is an evaluation error (callers deny).
	missing := input("shelves/1/books/2", "1")
	missing.Claims = map[string]any{"sub": "1"}
	if _, err := r.Eval(context.Background(), missing); err == nil {
		t.Error("missing scope claim: got no error, want one")
	}
}

// TestEvalDynamicMessage: a method known only from a descriptor (its
// request a dynamicpb message) compiles and evaluates the same.
func TestEvalDynamicMessage(t *testing.T) {
	// A copy of the bookstore's file, built from its descriptor proto, so
	// its messages are not the generated Go types.
	fdp := protodesc.ToFileDescriptorProto(bookstorev1.File_example_bookstore_v1_bookstore_proto)
	fd, err := protodesc.NewFile(fdp, protoregistry.GlobalFiles)
	if err != nil {
		t.Fatal(err)
	}
	md := fd.Messages().ByName("DeleteBookRequest")
	c, err := rules.NewCompiler()
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Compile(`request.name == "shelves/1/books/1"`, md)
	if err != nil {
		t.Fatal(err)
	}
	msg := dynamicpb.NewMessage(md)
	msg.Set(md.Fields().ByName("name"), protoreflect.ValueOfString("shelves/1/books/1"))
	if ok, err := r.Eval(context.Background(), &rules.Input{Request: msg}); err != nil || !ok {
		t.Errorf("dynamic request: got %v, %v; want true", ok, err)
	}
	// The generated type evaluates against the descriptor-only rule too.
	if ok, err := r.Eval(context.Background(), &rules.Input{Request: &bookstorev1.DeleteBookRequest{Name: "x"}}); err != nil || ok {
		t.Errorf("generated request: got %v, %v; want false", ok, err)
	}
}

// TestWellKnownFields: fields of imported types (Timestamp, wrappers)
// type-check and evaluate.
func TestWellKnownFields(t *testing.T) {
	c, err := rules.NewCompiler()
	if err != nil {
		t.Fatal(err)
	}
	in := (&bookstorev1.ListBooksRequest{}).ProtoReflect().Descriptor()
	r, err := c.Compile(`request.published_after < timestamp("2020-01-01T00:00:00Z") && request.author == "x" && request.page_size <= 50`, in)
	if err != nil {
		t.Fatal(err)
	}
	req := &bookstorev1.ListBooksRequest{PublishedAfter: timestamppb.New(time.Unix(0, 0)), Author: wrapperspb.String("x"), PageSize: 10}
	if ok, err := r.Eval(context.Background(), &rules.Input{Request: req}); err != nil || !ok {
		t.Errorf("got %v, %v; want true", ok, err)
	}
}
