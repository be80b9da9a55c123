package responsemap_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/responsemap"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/anypb"
)

// recordingTransport is a door's transport stream: it keeps what the
// backend reports.
type recordingTransport struct{ header, trailer metadata.MD }

func (r *recordingTransport) Method() string { return "/x.S/M" }
func (r *recordingTransport) SetHeader(md metadata.MD) error {
	r.header = metadata.Join(r.header, md)
	return nil
}
func (r *recordingTransport) SendHeader(md metadata.MD) error { return r.SetHeader(md) }
func (r *recordingTransport) SetTrailer(md metadata.MD) error {
	r.trailer = metadata.Join(r.trailer, md)
	return nil
}

// recordingStream is a door's server stream.
type recordingStream struct {
	grpc.ServerStream
	ctx             context.Context
	header, trailer metadata.MD
}

func (r *recordingStream) Context() context.Context { return r.ctx }
func (r *recordingStream) SetHeader(md metadata.MD) error {
	r.header = metadata.Join(r.header, md)
	return nil
}
func (r *recordingStream) SendHeader(md metadata.MD) error { return r.SetHeader(md) }
func (r *recordingStream) SetTrailer(md metadata.MD)       { r.trailer = metadata.Join(r.trailer, md) }

func compile(t *testing.T, rm *configv1.ResponseMapping) *responsemap.Mapping {
	t.Helper()
	m, err := responsemap.Compile("apis[0].response", rm)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// backendError is what a backend that leaks internals answers.
func backendError(t *testing.T) error {
	st, err := status.New(codes.Internal, "pq: connection to 10.0.3.7:5432 refused").
		WithDetails(&errdetails.DebugInfo{Detail: "stack: db.go:42"})
	if err != nil {
		t.Fatal(err)
	}
	return st.Err()
}

func TestStageUnary(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	m := compile(t, &configv1.ResponseMapping{ForwardMetadata: []string{"x-keep"}, HideInternalErrors: true})
	st := m.Stage(log)
	if st.Unary == nil || st.Stream == nil || st.Gate != nil {
		t.Fatalf("stage: got %+v, want unary and stream interceptors only", st)
	}
	tr := &recordingTransport{}
	ctx := grpc.NewContextWithServerTransportStream(context.Background(), tr)
	info := &grpc.UnaryServerInfo{FullMethod: "/x.S/M"}
	_, err := st.Unary(ctx, nil, info, func(ctx context.Context, _ any) (any, error) {
		_ = grpc.SetHeader(ctx, metadata.Pairs("x-keep", "1", "x-drop", "2"))
		_ = grpc.SetTrailer(ctx, metadata.Pairs("x-keep", "3", "x-backend-host", "db-7"))
		return nil, backendError(t)
	})
	if got := tr.header; len(got) != 1 || got.Get("x-keep")[0] != "1" {
		t.Errorf("header: got %v, want only x-keep", got)
	}
	if got := tr.trailer; len(got) != 1 || got.Get("x-keep")[0] != "3" {
		t.Errorf("trailer: got %v, want only x-keep", got)
	}
	s := status.Convert(err)
	if s.Code() != codes.Internal || s.Message() != "internal error" || len(s.Proto().GetDetails()) != 0 {
		t.Errorf("client's status: got %v %q %d details, want INTERNAL \"internal error\" and no details", s.Code(), s.Message(), len(s.Proto().GetDetails()))
	}
	var entry map[string]any
	if err := json.Unmarshal(logs.Bytes(), &entry); err != nil {
		t.Fatalf("log: got %q, want one JSON entry: %v", logs.String(), err)
	}
	if entry["method"] != "/x.S/M" || entry["code"] != "INTERNAL" || !strings.Contains(entry["message"].(string), "10.0.3.7") ||
		!strings.Contains(logs.String(), "google.rpc.DebugInfo") {
		t.Errorf("log: got %s, want the method, the code, the original message and the details' types", logs.String())
	}
}

func TestStageStream(t *testing.T) {
	m := compile(t, &configv1.ResponseMapping{ForwardMetadata: []string{"x-keep"}})
	st := m.Stage(nil)
	door := &recordingStream{ctx: context.Background()}
	tr := &recordingTransport{}
	door.ctx = grpc.NewContextWithServerTransportStream(door.ctx, tr)
	want := status.Error(codes.Internal, "kept: hide_internal_errors is off")
	err := st.Stream(nil, door, &grpc.StreamServerInfo{FullMethod: "/x.S/M"}, func(_ any, ss grpc.ServerStream) error {
		_ = ss.SendHeader(metadata.Pairs("x-keep", "1", "x-drop", "2"))
		ss.SetTrailer(metadata.Pairs("x-drop", "3"))
		_ = grpc.SetTrailer(ss.Context(), metadata.Pairs("x-keep", "4", "x-drop", "5"))
		return want
	})
	if err != want {
		t.Errorf("status: got %v, want %v unchanged", err, want)
	}
	if len(door.header) != 1 || door.header.Get("x-keep")[0] != "1" {
		t.Errorf("stream header: got %v, want only x-keep", door.header)
	}
	if len(door.trailer) != 0 {
		t.Errorf("stream trailer: got %v, want nothing", door.trailer)
	}
	if len(tr.trailer) != 1 || tr.trailer.Get("x-keep")[0] != "4" {
		t.Errorf("trailer set on the context: got %v, want only x-keep", tr.trailer)
	}
}

func TestStageNothingToDo(t *testing.T) {
	// REST-only choices need no interceptor: the door applies them.
	m := compile(t, &configv1.ResponseMapping{Errors: "problem_json", Status: map[string]uint32{"NOT_FOUND": 410}})
	if st := m.Stage(nil); st.Unary != nil || st.Stream != nil || st.Gate != nil {
		t.Errorf("stage: got %+v, want the zero Stage", st)
	}
	var none *responsemap.Mapping
	if st := none.Stage(nil); st.Unary != nil || st.Stream != nil {
		t.Errorf("nil mapping's stage: got %+v, want the zero Stage", st)
	}
}

func TestHide(t *testing.T) {
	notFound := status.Error(codes.NotFound, "shelf 7 not found")
	for _, tc := range []struct {
		in   error
		code codes.Code
		msg  string
	}{
		{status.Error(codes.Internal, "db down"), codes.Internal, "internal error"},
		{status.Error(codes.Unknown, "panic: nil map"), codes.Unknown, "unknown error"},
		{status.Error(codes.DataLoss, "checksum mismatch in block 9"), codes.DataLoss, "data loss"},
		{errors.New("dial tcp 10.0.0.1:80: refused"), codes.Unknown, "unknown error"},
		{notFound, codes.NotFound, "shelf 7 not found"},
	} {
		got := status.Convert(responsemap.Hide(tc.in))
		if got.Code() != tc.code || got.Message() != tc.msg {
			t.Errorf("Hide(%v): got %v %q, want %v %q", tc.in, got.Code(), got.Message(), tc.code, tc.msg)
		}
	}
	if got := responsemap.Hide(notFound); got != notFound {
		t.Errorf("Hide(NOT_FOUND): got %v, want the same error", got)
	}
}

func TestNewProblem(t *testing.T) {
	info, err := anypb.New(&errdetails.ErrorInfo{Reason: "FORCED", Domain: "bookstore.example"})
	if err != nil {
		t.Fatal(err)
	}
	unknown := &anypb.Any{TypeUrl: "type.googleapis.com/acme.Secret", Value: []byte{1, 2}}
	st := status.New(codes.NotFound, "shelf 7 not found")
	sp := st.Proto()
	sp.Details = []*anypb.Any{info, unknown}
	st = status.FromProto(sp)
	marshal := func(a *anypb.Any) ([]byte, error) { return protojson.Marshal(a) }

	body, err := responsemap.NewProblem(st, 410, marshal).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{
		"type": "about:blank", "title": "Gone", "status": float64(410),
		"detail": "shelf 7 not found", "code": "NOT_FOUND",
	} {
		if got[k] != want {
			t.Errorf("%s: got %v, want %v", k, got[k], want)
		}
	}
	details, _ := got["details"].([]any)
	if len(details) != 2 {
		t.Fatalf("details: got %v, want 2", got["details"])
	}
	if d := details[0].(map[string]any); d["reason"] != "FORCED" || d["@type"] != "type.googleapis.com/google.rpc.ErrorInfo" {
		t.Errorf("details[0]: got %v, want the ErrorInfo", d)
	}
	if d := details[1].(map[string]any); len(d) != 1 || d["@type"] != "type.googleapis.com/acme.Secret" {
		t.Errorf("details[1]: got %v, want only the unknown type's URL", d)
	}

	// No message: no detail member; a status without a reason phrase: the
	// code name as title; no details: [].
	body, _ = responsemap.NewProblem(status.New(codes.Canceled, ""), 499, marshal).Marshal()
	if want := `{"type":"about:blank","title":"CANCELLED","status":499,"code":"CANCELLED","details":[]}`; string(body) != want {
		t.Errorf("got %s, want %s", body, want)
	}
}

// BenchmarkStageUnary is what the stage adds to a unary call whose
// backend reports a header and a trailer (the filtered transport stream,
// the allow-list): "mapped" against "none", the same call without it.
func BenchmarkStageUnary(b *testing.B) {
	m, err := responsemap.Compile("apis[0].response", &configv1.ResponseMapping{
		ForwardMetadata: []string{"x-request-id"}, HideInternalErrors: true,
	})
	if err != nil {
		b.Fatal(err)
	}
	st := m.Stage(slog.New(slog.DiscardHandler))
	info := &grpc.UnaryServerInfo{FullMethod: "/x.S/M"}
	header := metadata.MD{"x-request-id": {"r1"}, "x-internal": {"db-7"}}
	trailer := metadata.MD{"x-request-id": {"r1"}}
	handler := func(ctx context.Context, _ any) (any, error) {
		_ = grpc.SetHeader(ctx, header)
		_ = grpc.SetTrailer(ctx, trailer)
		return nil, nil
	}
	for _, bc := range []struct {
		name  string
		unary grpc.UnaryServerInterceptor
	}{
		{"none", func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			return h(ctx, req)
		}},
		{"mapped", st.Unary},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				tr := &recordingTransport{}
				ctx := grpc.NewContextWithServerTransportStream(context.Background(), tr)
				_, _ = bc.unary(ctx, nil, info, handler)
			}
		})
	}
}
