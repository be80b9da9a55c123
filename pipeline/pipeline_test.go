package pipeline_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/catalog"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	"github.com/portico-gw/portico/pipeline"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// trace records the order in which interceptors and the backend run.
type trace struct {
	mu     sync.Mutex
	events []string
}

func (tr *trace) add(e string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.events = append(tr.events, e)
}

func (tr *trace) get() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return slices.Clone(tr.events)
}

// fakeBackend records its calls. unary and stream, when set, answer them.
type fakeBackend struct {
	tr     *trace
	unary  func(ctx context.Context, m *catalog.Method, req proto.Message) (proto.Message, error)
	stream func(ctx context.Context, m *catalog.Method, ss grpc.ServerStream) error
}

func (b *fakeBackend) Unary(ctx context.Context, m *catalog.Method, req proto.Message) (proto.Message, error) {
	if b.tr != nil {
		b.tr.add("backend")
	}
	if b.unary != nil {
		return b.unary(ctx, m, req)
	}
	return &bookstorev1.Shelf{Id: 1}, nil
}

func (b *fakeBackend) Stream(ctx context.Context, m *catalog.Method, ss grpc.ServerStream) error {
	if b.tr != nil {
		b.tr.add("backend")
	}
	if b.stream != nil {
		return b.stream(ctx, m, ss)
	}
	return nil
}

// newMethod builds a catalog method by hand, as catalog.New would.
func newMethod(b catalog.Backend) *catalog.Method {
	md := bookstorev1.File_example_bookstore_v1_bookstore_proto.Services().Get(0).Methods().ByName("GetShelf")
	m, err := catalog.NewMethod(md, b)
	if err != nil {
		panic(err)
	}
	return m
}

// compile builds a one-method pipeline running the interceptors given.
func compile(t testing.TB, m *catalog.Method, unary []grpc.UnaryServerInterceptor, stream []grpc.StreamServerInterceptor) *pipeline.Method {
	t.Helper()
	p, err := pipeline.New([]*catalog.Method{m}, pipeline.Options{}, pipeline.Interceptors(unary, stream))
	if err != nil {
		t.Fatalf("pipeline.New: %v", err)
	}
	pm := p.Method(m.FullMethod())
	if pm == nil {
		t.Fatalf("Method(%q) = nil", m.FullMethod())
	}
	return pm
}

// fakeStream is a grpc.ServerStream with a context and nothing else.
type fakeStream struct {
	grpc.ServerStream // nil: calling anything else panics
	ctx               context.Context
}

func (s *fakeStream) Context() context.Context { return s.ctx }

type ctxKey string

func unaryInterceptor(tr *trace, name string, m *catalog.Method) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		if info != m.UnaryInfo() {
			return nil, fmt.Errorf("%s: got info %+v, want the method's UnaryInfo", name, info)
		}
		tr.add(name + ">")
		resp, err := h(ctx, req)
		tr.add("<" + name)
		return resp, err
	}
}

func streamInterceptor(tr *trace, name string, m *catalog.Method) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		if info != m.StreamInfo() {
			return fmt.Errorf("%s: got info %+v, want the method's StreamInfo", name, info)
		}
		if srv != m {
			return fmt.Errorf("%s: got srv %v, want the method", name, srv)
		}
		tr.add(name + ">")
		err := h(srv, ss)
		tr.add("<" + name)
		return err
	}
}

var orderTests = []struct {
	names []string
	want  []string
}{
	{nil, []string{"backend"}},
	{[]string{"a"}, []string{"a>", "backend", "<a"}},
	{[]string{"a", "b"}, []string{"a>", "b>", "backend", "<b", "<a"}},
	{[]string{"a", "b", "c"}, []string{"a>", "b>", "c>", "backend", "<c", "<b", "<a"}},
}

func TestUnaryOrder(t *testing.T) {
	for _, tt := range orderTests {
		t.Run(fmt.Sprintf("%d interceptors", len(tt.names)), func(t *testing.T) {
			tr := &trace{}
			want := &bookstorev1.Shelf{Id: 7, Theme: "x"}
			var gotReq proto.Message
			m := newMethod(&fakeBackend{tr: tr, unary: func(_ context.Context, _ *catalog.Method, req proto.Message) (proto.Message, error) {
				gotReq = req
				return want, nil
			}})
			var ics []grpc.UnaryServerInterceptor
			for _, n := range tt.names {
				ics = append(ics, unaryInterceptor(tr, n, m))
			}
			req := &bookstorev1.GetShelfRequest{Shelf: 7}
			resp, err := compile(t, m, ics, nil).Unary(context.Background(), req)
			if err != nil {
				t.Fatalf("Unary: %v", err)
			}
			if resp != want {
				t.Errorf("got response %v, want the backend's %v", resp, want)
			}
			if gotReq != req {
				t.Errorf("backend got request %v, want %v", gotReq, req)
			}
			if got := tr.get(); !slices.Equal(got, tt.want) {
				t.Errorf("got order %q, want %q", got, tt.want)
			}
		})
	}
}

func TestStreamOrder(t *testing.T) {
	for _, tt := range orderTests {
		t.Run(fmt.Sprintf("%d interceptors", len(tt.names)), func(t *testing.T) {
			tr := &trace{}
			ss := &fakeStream{ctx: context.WithValue(context.Background(), ctxKey("k"), "v")}
			var gotCtx context.Context
			var gotSS grpc.ServerStream
			m := newMethod(&fakeBackend{tr: tr, stream: func(ctx context.Context, _ *catalog.Method, s grpc.ServerStream) error {
				gotCtx, gotSS = ctx, s
				return nil
			}})
			var ics []grpc.StreamServerInterceptor
			for _, n := range tt.names {
				ics = append(ics, streamInterceptor(tr, n, m))
			}
			if err := compile(t, m, nil, ics).Stream(ss); err != nil {
				t.Fatalf("Stream: %v", err)
			}
			if got := tr.get(); !slices.Equal(got, tt.want) {
				t.Errorf("got order %q, want %q", got, tt.want)
			}
			if gotSS != ss {
				t.Errorf("backend got stream %v, want the door's", gotSS)
			}
			if gotCtx == nil || gotCtx.Value(ctxKey("k")) != "v" {
				t.Errorf("backend got ctx %v, want the stream's context", gotCtx)
			}
		})
	}
}

// TestInterceptorsChangeTheCall: what an interceptor passes on (context,
// request, wrapped stream) is what the next one and the backend get.
func TestInterceptorsChangeTheCall(t *testing.T) {
	t.Run("unary", func(t *testing.T) {
		var gotCtx context.Context
		var gotReq proto.Message
		m := newMethod(&fakeBackend{unary: func(ctx context.Context, _ *catalog.Method, req proto.Message) (proto.Message, error) {
			gotCtx, gotReq = ctx, req
			return &bookstorev1.Shelf{}, nil
		}})
		replaced := &bookstorev1.GetShelfRequest{Shelf: 2}
		setCtx := func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			return h(context.WithValue(ctx, ctxKey("who"), "alice"), req)
		}
		setReq := func(ctx context.Context, _ any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			return h(ctx, replaced)
		}
		_, err := compile(t, m, []grpc.UnaryServerInterceptor{setCtx, setReq}, nil).Unary(context.Background(), &bookstorev1.GetShelfRequest{Shelf: 1})
		if err != nil {
			t.Fatal(err)
		}
		if gotCtx.Value(ctxKey("who")) != "alice" {
			t.Error("backend did not get the context an interceptor passed on")
		}
		if gotReq != replaced {
			t.Errorf("backend got %v, want the request an interceptor passed on", gotReq)
		}
	})
	t.Run("stream", func(t *testing.T) {
		var gotCtx context.Context
		m := newMethod(&fakeBackend{stream: func(ctx context.Context, _ *catalog.Method, _ grpc.ServerStream) error {
			gotCtx = ctx
			return nil
		}})
		wrap := func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			return h(srv, &fakeStream{ctx: context.WithValue(ss.Context(), ctxKey("who"), "bob")})
		}
		if err := compile(t, m, nil, []grpc.StreamServerInterceptor{wrap}).Stream(&fakeStream{ctx: context.Background()}); err != nil {
			t.Fatal(err)
		}
		if gotCtx.Value(ctxKey("who")) != "bob" {
			t.Error("backend did not get the wrapped stream's context")
		}
	})
}

func TestShortCircuit(t *testing.T) {
	denied := status.Error(codes.PermissionDenied, "no")
	tr := &trace{}
	m := newMethod(&fakeBackend{tr: tr})
	deny := func(context.Context, any, *grpc.UnaryServerInfo, grpc.UnaryHandler) (any, error) { return nil, denied }
	denyStream := func(any, grpc.ServerStream, *grpc.StreamServerInfo, grpc.StreamHandler) error { return denied }
	p := compile(t, m,
		[]grpc.UnaryServerInterceptor{unaryInterceptor(tr, "a", m), deny, unaryInterceptor(tr, "c", m)},
		[]grpc.StreamServerInterceptor{streamInterceptor(tr, "a", m), denyStream, streamInterceptor(tr, "c", m)},
	)
	if _, err := p.Unary(context.Background(), &bookstorev1.GetShelfRequest{}); err != denied {
		t.Errorf("unary: got %v, want %v", err, denied)
	}
	if err := p.Stream(&fakeStream{ctx: context.Background()}); err != denied {
		t.Errorf("stream: got %v, want %v", err, denied)
	}
	if got, want := tr.get(), []string{"a>", "<a", "a>", "<a"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q (neither c nor the backend runs)", got, want)
	}
}

func TestBackendErrors(t *testing.T) {
	backendErr := status.Error(codes.NotFound, "shelf 9")
	m := newMethod(&fakeBackend{
		unary: func(context.Context, *catalog.Method, proto.Message) (proto.Message, error) {
			return &bookstorev1.Shelf{}, backendErr // a response with an error is dropped
		},
		stream: func(context.Context, *catalog.Method, grpc.ServerStream) error { return backendErr },
	})
	p := compile(t, m, nil, nil)
	resp, err := p.Unary(context.Background(), &bookstorev1.GetShelfRequest{})
	if err != backendErr || resp != nil {
		t.Errorf("unary: got %v, %v, want nil, %v", resp, err, backendErr)
	}
	if err := p.Stream(&fakeStream{ctx: context.Background()}); err != backendErr {
		t.Errorf("stream: got %v, want %v", err, backendErr)
	}
}

// TestNoResponse: a call that ends without error and without a response
// message is an internal error, not an empty answer.
func TestNoResponse(t *testing.T) {
	tests := []struct {
		name string
		ic   grpc.UnaryServerInterceptor
		be   func(context.Context, *catalog.Method, proto.Message) (proto.Message, error)
	}{
		{"backend returns nil", nil, func(context.Context, *catalog.Method, proto.Message) (proto.Message, error) { return nil, nil }},
		{"backend returns a typed nil", nil, func(context.Context, *catalog.Method, proto.Message) (proto.Message, error) {
			return (*bookstorev1.Shelf)(nil), nil
		}},
		{"interceptor returns nil", func(context.Context, any, *grpc.UnaryServerInfo, grpc.UnaryHandler) (any, error) { return nil, nil }, nil},
		{"interceptor returns a non-message", func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			return "not a proto message", nil
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ics []grpc.UnaryServerInterceptor
			if tt.ic != nil {
				ics = append(ics, tt.ic)
			}
			resp, err := compile(t, newMethod(&fakeBackend{unary: tt.be}), ics, nil).Unary(context.Background(), &bookstorev1.GetShelfRequest{})
			if resp != nil {
				t.Errorf("got response %v, want nil", resp)
			}
			st := status.Convert(err)
			if st.Code() != codes.Internal || st.Message() != "internal error" {
				t.Errorf("got %v %q, want Internal %q", st.Code(), st.Message(), "internal error")
			}
		})
	}
}

const secret = "db password is hunter2"

func TestRecover(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	recoverUnary, recoverStream := pipeline.Recover(log)
	m := newMethod(&fakeBackend{
		unary: func(context.Context, *catalog.Method, proto.Message) (proto.Message, error) { panic(secret) },
		stream: func(context.Context, *catalog.Method, grpc.ServerStream) error {
			panic(errors.New(secret))
		},
	})
	// Recover outermost catches a panic in the backend, below another
	// interceptor.
	tr := &trace{}
	p := compile(t, m,
		[]grpc.UnaryServerInterceptor{recoverUnary, unaryInterceptor(tr, "inner", m)},
		[]grpc.StreamServerInterceptor{recoverStream, streamInterceptor(tr, "inner", m)},
	)
	check := func(what string, err error) {
		t.Helper()
		st := status.Convert(err)
		if st.Code() != codes.Internal || st.Message() != "internal error" {
			t.Errorf("%s: got %v %q, want Internal %q", what, st.Code(), st.Message(), "internal error")
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: the panic value reached the client: %v", what, err)
		}
		logged := buf.String()
		buf.Reset()
		for _, want := range []string{"level=ERROR", `msg="panic in call"`, "method=" + m.FullMethod(), "hunter2", "stack="} {
			if !strings.Contains(logged, want) {
				t.Errorf("%s: log %q does not contain %q", what, logged, want)
			}
		}
	}
	resp, err := p.Unary(context.Background(), &bookstorev1.GetShelfRequest{})
	if resp != nil {
		t.Errorf("unary: got response %v, want nil", resp)
	}
	check("unary", err)
	check("stream", p.Stream(&fakeStream{ctx: context.Background()}))
}

// TestRecoverPassThrough: without a panic, Recover changes nothing and
// logs nothing.
func TestRecoverPassThrough(t *testing.T) {
	var buf bytes.Buffer
	recoverUnary, recoverStream := pipeline.Recover(slog.New(slog.NewTextHandler(&buf, nil)))
	want := &bookstorev1.Shelf{Id: 3}
	streamErr := status.Error(codes.Aborted, "stop")
	m := newMethod(&fakeBackend{
		unary:  func(context.Context, *catalog.Method, proto.Message) (proto.Message, error) { return want, nil },
		stream: func(context.Context, *catalog.Method, grpc.ServerStream) error { return streamErr },
	})
	p := compile(t, m, []grpc.UnaryServerInterceptor{recoverUnary}, []grpc.StreamServerInterceptor{recoverStream})
	if resp, err := p.Unary(context.Background(), &bookstorev1.GetShelfRequest{}); err != nil || resp != want {
		t.Errorf("unary: got %v, %v, want %v, nil", resp, err, want)
	}
	if err := p.Stream(&fakeStream{ctx: context.Background()}); err != streamErr {
		t.Errorf("stream: got %v, want %v", err, streamErr)
	}
	if buf.Len() != 0 {
		t.Errorf("got log %q, want none", buf.String())
	}
}

// TestRecoverInInterceptor: a panic in an interceptor below Recover is
// caught too.
func TestRecoverInInterceptor(t *testing.T) {
	var buf bytes.Buffer
	recoverUnary, _ := pipeline.Recover(slog.New(slog.NewTextHandler(&buf, nil)))
	boom := func(ctx context.Context, _ any, _ *grpc.UnaryServerInfo, _ grpc.UnaryHandler) (any, error) {
		var md metadata.MD
		md["x"] = nil // assignment to a nil map
		return nil, nil
	}
	_, err := compile(t, newMethod(&fakeBackend{}), []grpc.UnaryServerInterceptor{recoverUnary, boom}, nil).Unary(context.Background(), &bookstorev1.GetShelfRequest{})
	if st := status.Convert(err); st.Code() != codes.Internal || st.Message() != "internal error" {
		t.Errorf("got %v %q, want Internal %q", st.Code(), st.Message(), "internal error")
	}
	if !strings.Contains(buf.String(), "assignment to entry in nil map") {
		t.Errorf("log %q does not name the runtime panic", buf.String())
	}
}

// TestWireResponse: a method's response may stay wire bytes only when
// every unary interceptor says it reads the request alone
// (Stage.RequestOnly); UnaryVia runs them around the door's own backend
// call, whose result comes back as it is.
func TestWireResponse(t *testing.T) {
	tr := &trace{}
	m := newMethod(&fakeBackend{tr: tr})
	only := pipeline.PolicyFunc(func(*catalog.Method) (pipeline.Stage, error) {
		return pipeline.Stage{Unary: unaryInterceptor(tr, "validate", m), RequestOnly: true}, nil
	})
	reads := pipeline.PolicyFunc(func(*catalog.Method) (pipeline.Stage, error) {
		return pipeline.Stage{Unary: unaryInterceptor(tr, "map", m)}, nil
	})
	gate := pipeline.PolicyFunc(func(*catalog.Method) (pipeline.Stage, error) {
		return pipeline.Stage{Gate: func(ctx context.Context, _ *call.Info) (context.Context, error) { return ctx, nil }}, nil
	})
	for _, tt := range []struct {
		name     string
		policies []pipeline.Policy
		want     bool
	}{
		{"none", nil, true},
		{"a gate", []pipeline.Policy{gate}, true},
		{"request only", []pipeline.Policy{only, gate}, true},
		{"one reads the response", []pipeline.Policy{only, reads}, false},
		{"the reader first", []pipeline.Policy{reads, only}, false},
	} {
		p, err := pipeline.New([]*catalog.Method{m}, pipeline.Options{}, tt.policies...)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Method(m.FullMethod()).WireResponse(); got != tt.want {
			t.Errorf("%s: WireResponse() = %v, want %v", tt.name, got, tt.want)
		}
	}
	p, err := pipeline.New([]*catalog.Method{m}, pipeline.Options{}, only)
	if err != nil {
		t.Fatal(err)
	}
	wire := []byte{0x08, 0x07}
	out, err := p.Method(m.FullMethod()).UnaryVia(context.Background(), &bookstorev1.GetShelfRequest{Shelf: 7}, func(_ context.Context, req any) (any, error) {
		tr.add("raw backend")
		return wire, nil
	})
	if b, ok := out.([]byte); err != nil || !ok || !bytes.Equal(b, wire) {
		t.Errorf("UnaryVia: got %v, %v, want the door's backend's bytes", out, err)
	}
	if got, want := tr.get(), []string{"validate>", "raw backend", "<validate"}; !slices.Equal(got, want) {
		t.Errorf("got order %q, want %q", got, want)
	}
	_, err = p.Method(m.FullMethod()).UnaryVia(context.Background(), &bookstorev1.GetShelfRequest{}, func(context.Context, any) (any, error) { return nil, nil })
	if status.Code(err) != codes.Internal {
		t.Errorf("UnaryVia with no response: got %v, want INTERNAL", err)
	}
}
