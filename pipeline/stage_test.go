package pipeline_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/catalog"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	"github.com/portico-gw/portico/pipeline"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// methodNamed builds a catalog method for one of the bookstore's methods.
func methodNamed(name string, b catalog.Backend) *catalog.Method {
	md := bookstorev1.File_example_bookstore_v1_bookstore_proto.Services().Get(0).Methods().ByName(protoName(name))
	m, err := catalog.NewMethod(md, b)
	if err != nil {
		panic(err)
	}
	return m
}

// TestGatesRunInOrder: gates run in policy order, each sees the context
// the one before returned, and the first refusal ends the call.
func TestGatesRunInOrder(t *testing.T) {
	tr := &trace{}
	m := methodNamed("GetShelf", &fakeBackend{tr: tr})
	gate := func(name string, refuse bool) pipeline.Policy {
		return pipeline.PolicyFunc(func(*catalog.Method) (pipeline.Stage, error) {
			return pipeline.Stage{Gate: func(ctx context.Context, c *call.Info) (context.Context, error) {
				tr.add(name + " saw " + strings.Join(seen(ctx), ","))
				if refuse {
					return nil, status.Error(codes.PermissionDenied, "no")
				}
				return context.WithValue(ctx, ctxKey(name), true), nil
			}}, nil
		})
	}
	p, err := pipeline.New([]*catalog.Method{m}, pipeline.Options{}, gate("a", false), gate("b", false), gate("c", true), gate("d", false))
	if err != nil {
		t.Fatal(err)
	}
	pm := p.Method(m.FullMethod())
	if !pm.HasGate() {
		t.Fatal("HasGate() = false, want true")
	}
	_, err = pm.Gate(context.Background(), &call.Info{Method: m})
	if status.Code(err) != codes.PermissionDenied {
		t.Errorf("got %v, want PermissionDenied", err)
	}
	want := []string{"a saw ", "b saw a", "c saw a,b"}
	if got := tr.get(); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func seen(ctx context.Context) []string {
	var out []string
	for _, n := range []string{"a", "b", "c"} {
		if ctx.Value(ctxKey(n)) != nil {
			out = append(out, n)
		}
	}
	return out
}

// TestStagesPerMethod: a policy that does nothing for a method leaves that
// method with an empty chain, and another method keeps its own.
func TestStagesPerMethod(t *testing.T) {
	tr := &trace{}
	get := methodNamed("GetShelf", &fakeBackend{tr: tr})
	list := methodNamed("ListShelves", &fakeBackend{tr: tr})
	onlyGet := pipeline.PolicyFunc(func(m *catalog.Method) (pipeline.Stage, error) {
		if m != get {
			return pipeline.Stage{}, nil
		}
		return pipeline.Stage{
			Gate: func(ctx context.Context, _ *call.Info) (context.Context, error) { tr.add("gate"); return ctx, nil },
			Unary: func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
				tr.add("unary " + info.FullMethod)
				return h(ctx, req)
			},
		}, nil
	})
	p, err := pipeline.New([]*catalog.Method{get, list}, pipeline.Options{}, onlyGet)
	if err != nil {
		t.Fatal(err)
	}
	if p.Method(list.FullMethod()).HasGate() {
		t.Error("ListShelves: HasGate() = true, want false")
	}
	if p.Method("/example.bookstore.v1.BookstoreService/Nope") != nil {
		t.Error("an unknown method has a chain")
	}
	ctx := context.Background()
	for _, m := range []*catalog.Method{get, list} {
		pm := p.Method(m.FullMethod())
		c, err := pm.Gate(ctx, &call.Info{Method: m})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pm.Unary(c, &bookstorev1.GetShelfRequest{}); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"gate", "unary " + get.FullMethod(), "backend", "backend"}
	if got := tr.get(); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestPolicyErrorsAtBuild: a policy that cannot serve a method fails the
// build, naming the method.
func TestPolicyErrorsAtBuild(t *testing.T) {
	m := methodNamed("GetShelf", &fakeBackend{})
	bad := pipeline.PolicyFunc(func(*catalog.Method) (pipeline.Stage, error) {
		return pipeline.Stage{}, errors.New("rule does not compile")
	})
	_, err := pipeline.New([]*catalog.Method{m}, pipeline.Options{}, bad)
	if err == nil || !strings.Contains(err.Error(), "example.bookstore.v1.BookstoreService.GetShelf: rule does not compile") {
		t.Errorf("got %v, want an error naming the method and the problem", err)
	}
}

// TestMethodRecoversWithoutInterceptor: the compiled method itself turns a
// panic in a gate, an interceptor or the backend into INTERNAL; no Recover
// interceptor is needed.
func TestMethodRecoversWithoutInterceptor(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	m := methodNamed("GetShelf", &fakeBackend{
		unary:  func(context.Context, *catalog.Method, proto.Message) (proto.Message, error) { panic(secret) },
		stream: func(context.Context, *catalog.Method, grpc.ServerStream) error { panic(secret) },
	})
	gatePanics := pipeline.PolicyFunc(func(*catalog.Method) (pipeline.Stage, error) {
		return pipeline.Stage{Gate: func(context.Context, *call.Info) (context.Context, error) { panic(secret) }}, nil
	})
	p, err := pipeline.New([]*catalog.Method{m}, pipeline.Options{Logger: log}, gatePanics)
	if err != nil {
		t.Fatal(err)
	}
	pm := p.Method(m.FullMethod())
	_, gerr := pm.Gate(context.Background(), &call.Info{})
	_, uerr := pm.Unary(context.Background(), &bookstorev1.GetShelfRequest{})
	serr := pm.Stream(&fakeStream{ctx: context.Background()})
	for what, err := range map[string]error{"gate": gerr, "unary": uerr, "stream": serr} {
		if st := status.Convert(err); st.Code() != codes.Internal || st.Message() != "internal error" {
			t.Errorf("%s: got %v, want Internal %q", what, err, "internal error")
		}
	}
	if n := strings.Count(buf.String(), "hunter2"); n != 3 {
		t.Errorf("the log holds %d panic values, want 3: %s", n, buf.String())
	}
}

// protoName converts a Go method name to the descriptor's name (the same
// for the bookstore).
func protoName(s string) protoreflect.Name { return protoreflect.Name(s) }
