package server_test

// Traces: spans exported over OTLP, sampling, the trace context passed
// to backends.

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portico-gw/portico/examples/bookstore"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracev1 "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// otlpReceiver is an in-process OTLP/gRPC trace receiver.
type otlpReceiver struct {
	collectortrace.UnimplementedTraceServiceServer
	mu       sync.Mutex
	spans    []*tracev1.Span
	services map[string]bool // the resources' service.name
}

func (r *otlpReceiver) Export(_ context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		for _, kv := range rs.GetResource().GetAttributes() {
			if kv.GetKey() == "service.name" {
				if r.services == nil {
					r.services = map[string]bool{}
				}
				r.services[kv.GetValue().GetStringValue()] = true
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			r.spans = append(r.spans, ss.GetSpans()...)
		}
	}
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

func (r *otlpReceiver) received() []*tracev1.Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*tracev1.Span(nil), r.spans...)
}

func startReceiver(t *testing.T) (string, *otlpReceiver) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &otlpReceiver{}
	srv := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(srv, r)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return lis.Addr().String(), r
}

// traceRecordingBackend is the bookstore behind a server that keeps the
// metadata of every call it receives.
type traceRecordingBackend struct {
	mu  sync.Mutex
	mds []metadata.MD
}

func (b *traceRecordingBackend) traceparents() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, md := range b.mds {
		out = append(out, md.Get("traceparent")...)
	}
	return out
}

func startRecordingBackend(t *testing.T) (string, *traceRecordingBackend) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rb := &traceRecordingBackend{}
	srv := grpc.NewServer(grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		md, _ := metadata.FromIncomingContext(ctx)
		rb.mu.Lock()
		rb.mds = append(rb.mds, md.Copy())
		rb.mu.Unlock()
		return h(ctx, req)
	}))
	bookstore.NewServer().Register(srv)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return lis.Addr().String(), rb
}

func spanAttr(s *tracev1.Span, key string) string {
	for _, kv := range s.GetAttributes() {
		if kv.GetKey() == key {
			v := kv.GetValue()
			switch {
			case v.GetStringValue() != "":
				return v.GetStringValue()
			default:
				return fmt.Sprint(v.GetIntValue())
			}
		}
	}
	return ""
}

func spansOf(spans []*tracev1.Span, traceID string) []*tracev1.Span {
	var out []*tracev1.Span
	for _, s := range spans {
		if hex.EncodeToString(s.GetTraceId()) == traceID {
			out = append(out, s)
		}
	}
	return out
}

func findSpan(t *testing.T, spans []*tracev1.Span, kind tracev1.Span_SpanKind) *tracev1.Span {
	t.Helper()
	for _, s := range spans {
		if s.GetKind() == kind {
			return s
		}
	}
	t.Fatalf("no %v span among %d", kind, len(spans))
	return nil
}

// TestTracesOnBothDoors: a server span per call named after the route or
// method, the client's trace context continued, a client span per backend
// call, and the trace context passed to the backend; refused calls are
// traced too.
func TestTracesOnBothDoors(t *testing.T) {
	receiver, spans := startReceiver(t)
	backendAddr, backend := startRecordingBackend(t)
	env := servertest.StartGateway(t, backendAddr, servertest.Options{Config: func(c *configv1.Config) {
		c.Telemetry = &configv1.Telemetry{ServiceName: "edge-gateway", Traces: &configv1.Traces{OtlpEndpoint: receiver}}
	}})

	const restTrace, restParent = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	if code, body := opsGet(t, env.URL+"/v1/shelves/1", http.Header{"Traceparent": {"00-" + restTrace + "-" + restParent + "-01"}}); code != 200 {
		t.Fatalf("GET /v1/shelves/1: got %d %s", code, body)
	}
	const grpcTrace, grpcParent = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
	ctx := metadata.AppendToOutgoingContext(context.Background(), "traceparent", "00-"+grpcTrace+"-"+grpcParent+"-01")
	if _, err := bookstorev1.NewBookstoreServiceClient(env.Conn).GetShelf(ctx, &bookstorev1.GetShelfRequest{Shelf: 1}); err != nil {
		t.Fatal(err)
	}
	const streamTrace = "33333333333333333333333333333333"
	if code, body := opsGet(t, env.URL+"/v1/shelves/1/books:watch", http.Header{"Traceparent": {"00-" + streamTrace + "-4444444444444444-01"}}); code != 200 {
		t.Fatalf("GET /v1/shelves/1/books:watch: got %d %s", code, body)
	}
	const refusedTrace = "11111111111111111111111111111111"
	if code, _ := opsGet(t, env.URL+"/no/such/route", http.Header{"Traceparent": {"00-" + refusedTrace + "-2222222222222222-01"}}); code != 404 {
		t.Fatalf("GET /no/such/route: got %d, want 404", code)
	}
	opsShutdown(t, env.Server) // flushes the spans
	all := spans.received()
	spans.mu.Lock()
	services := spans.services
	spans.mu.Unlock()
	if len(services) != 1 || !services["edge-gateway"] {
		t.Errorf("service.name of the exported spans: got %v, want edge-gateway (telemetry.service_name)", services)
	}

	rest := spansOf(all, restTrace)
	server := findSpan(t, rest, tracev1.Span_SPAN_KIND_SERVER)
	if server.GetName() != "GET /v1/shelves/{shelf}" || hex.EncodeToString(server.GetParentSpanId()) != restParent {
		t.Errorf("REST server span: got %q parent %x, want %q parent %s", server.GetName(), server.GetParentSpanId(), "GET /v1/shelves/{shelf}", restParent)
	}
	for k, want := range map[string]string{"http.route": "/v1/shelves/{shelf}", "http.response.status_code": "200", "rpc.method": "/example.bookstore.v1.BookstoreService/GetShelf", "client.address": "127.0.0.1"} {
		if got := spanAttr(server, k); got != want {
			t.Errorf("REST server span %s: got %q, want %q", k, got, want)
		}
	}
	for door, s := range map[string]*tracev1.Span{"REST": server, "gRPC": findSpan(t, spansOf(all, grpcTrace), tracev1.Span_SPAN_KIND_SERVER)} {
		if id := spanAttr(s, "portico.request_id"); !isGenerated(id) {
			t.Errorf("%s server span portico.request_id: got %q, want the call's generated ID", door, id)
		}
	}
	client := findSpan(t, rest, tracev1.Span_SPAN_KIND_CLIENT)
	if !bytes.Equal(client.GetParentSpanId(), server.GetSpanId()) {
		t.Errorf("REST client span's parent: got %x, want the server span %x", client.GetParentSpanId(), server.GetSpanId())
	}

	grpcSpans := spansOf(all, grpcTrace)
	gs := findSpan(t, grpcSpans, tracev1.Span_SPAN_KIND_SERVER)
	if gs.GetName() != "example.bookstore.v1.BookstoreService/GetShelf" || hex.EncodeToString(gs.GetParentSpanId()) != grpcParent || spanAttr(gs, "rpc.grpc.status_code") != "0" {
		t.Errorf("gRPC server span: got %q parent %x status %q, want the method, parent %s, status 0", gs.GetName(), gs.GetParentSpanId(), spanAttr(gs, "rpc.grpc.status_code"), grpcParent)
	}
	gc := findSpan(t, grpcSpans, tracev1.Span_SPAN_KIND_CLIENT)
	if !bytes.Equal(gc.GetParentSpanId(), gs.GetSpanId()) {
		t.Errorf("gRPC client span's parent: got %x, want the server span %x", gc.GetParentSpanId(), gs.GetSpanId())
	}

	// The backend got each trace, with the gateway's client span as parent.
	tps := backend.traceparents()
	for _, want := range []string{
		"00-" + restTrace + "-" + hex.EncodeToString(client.GetSpanId()) + "-01",
		"00-" + grpcTrace + "-" + hex.EncodeToString(gc.GetSpanId()) + "-01",
	} {
		if !opsContains(tps, want) {
			t.Errorf("the backend got traceparents %v, want %s among them", tps, want)
		}
	}

	// A server stream's backend call is a client span too, ended with it.
	stream := spansOf(all, streamTrace)
	if sc := findSpan(t, stream, tracev1.Span_SPAN_KIND_CLIENT); sc.GetName() != "example.bookstore.v1.BookstoreService/WatchBooks" || spanAttr(sc, "rpc.grpc.status_code") != "0" {
		t.Errorf("stream client span: got %q status %q, want WatchBooks, 0", sc.GetName(), spanAttr(sc, "rpc.grpc.status_code"))
	}

	refused := spansOf(all, refusedTrace)
	if len(refused) != 1 || refused[0].GetName() != "GET" || spanAttr(refused[0], "http.response.status_code") != "404" || spanAttr(refused[0], "http.route") != "" {
		t.Errorf("the 404: got %d spans %v, want one server span GET with status 404 and no route", len(refused), refused)
	}
}

// TestTracesSampling: at sampling_ratio 0 no new trace is recorded but a
// client's sampled trace is (parent-based), and its context reaches the
// backend.
func TestTracesSampling(t *testing.T) {
	receiver, spans := startReceiver(t)
	backendAddr, backend := startRecordingBackend(t)
	env := servertest.StartGateway(t, backendAddr, servertest.Options{Config: func(c *configv1.Config) {
		ratio := 0.0
		c.Telemetry = &configv1.Telemetry{Traces: &configv1.Traces{OtlpEndpoint: receiver, SamplingRatio: &ratio}}
	}})
	for i := 0; i < 5; i++ {
		if code, _ := opsGet(t, env.URL+"/v1/shelves", nil); code != 200 {
			t.Fatalf("GET /v1/shelves: got %d", code)
		}
	}
	const sampled = "5bf92f3577b34da6a3ce929d0e0e4736"
	if code, _ := opsGet(t, env.URL+"/v1/shelves", http.Header{"Traceparent": {"00-" + sampled + "-00f067aa0ba902b7-01"}}); code != 200 {
		t.Fatalf("GET /v1/shelves: got %d", code)
	}
	opsShutdown(t, env.Server)
	all := spans.received()
	if n := len(spansOf(all, sampled)); n != 2 {
		t.Errorf("the client's sampled trace: got %d spans, want 2 (server and client)", n)
	}
	if len(all) != 2 {
		t.Errorf("spans exported: got %d, want only the 2 of the sampled trace", len(all))
	}
	// At ratio 0 a call that brings no trace context makes no span, so
	// the backend gets none from it; the sampled one's reaches it.
	tps := backend.traceparents()
	if len(tps) != 1 || !strings.HasPrefix(tps[0], "00-"+sampled+"-") || !strings.HasSuffix(tps[0], "-01") {
		t.Errorf("the backend got traceparents %v, want only the sampled trace's", tps)
	}
}

// TestTracesUnsampledRoots: below ratio 1 (and above 0), a new trace that
// is not sampled still carries its (not-sampled) context to the backend.
func TestTracesUnsampledRoots(t *testing.T) {
	receiver, spans := startReceiver(t)
	backendAddr, backend := startRecordingBackend(t)
	env := servertest.StartGateway(t, backendAddr, servertest.Options{Config: func(c *configv1.Config) {
		ratio := 1e-12 // practically never sampled, yet roots make spans
		c.Telemetry = &configv1.Telemetry{Traces: &configv1.Traces{OtlpEndpoint: receiver, SamplingRatio: &ratio}}
	}})
	for i := 0; i < 3; i++ {
		if code, _ := opsGet(t, env.URL+"/v1/shelves", nil); code != 200 {
			t.Fatalf("GET /v1/shelves: got %d", code)
		}
	}
	opsShutdown(t, env.Server)
	if n := len(spans.received()); n != 0 {
		t.Errorf("spans exported: got %d, want none", n)
	}
	tps := backend.traceparents()
	if len(tps) != 3 {
		t.Fatalf("the backend got %d traceparents, want one per call: %v", len(tps), tps)
	}
	for _, tp := range tps {
		if !strings.HasPrefix(tp, "00-") || !strings.HasSuffix(tp, "-00") {
			t.Errorf("the backend got traceparent %q, want a not-sampled trace context", tp)
		}
	}
}

// TestTraceContextWithoutExport: with no spans recorded (metrics only), a
// client's trace context still reaches the backend, as it was sent.
func TestTraceContextWithoutExport(t *testing.T) {
	backendAddr, backend := startRecordingBackend(t)
	env := servertest.StartGateway(t, backendAddr, servertest.Options{Config: func(c *configv1.Config) {
		c.Telemetry = &configv1.Telemetry{Metrics: &configv1.Metrics{Prometheus: true}}
	}})
	const tp = "00-6bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	if code, _ := opsGet(t, env.URL+"/v1/shelves/1", http.Header{"Traceparent": {tp}}); code != 200 {
		t.Fatalf("GET /v1/shelves/1: got %d", code)
	}
	if code, _ := opsGet(t, env.URL+"/v1/shelves/1", nil); code != 200 {
		t.Fatalf("GET /v1/shelves/1: got %d", code)
	}
	if got := backend.traceparents(); len(got) != 1 || got[0] != tp {
		t.Errorf("the backend got traceparents %v, want only the client's %s", got, tp)
	}
}

// TestTracesWithoutCollector: a receiver that is not there neither fails
// nor slows calls, nor holds the shutdown up.
func TestTracesWithoutCollector(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	nowhere := lis.Addr().String()
	lis.Close()
	env := servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
		c.Telemetry = &configv1.Telemetry{Traces: &configv1.Traces{OtlpEndpoint: nowhere}}
	}})
	start := time.Now()
	for i := 0; i < 50; i++ {
		if code, body := opsGet(t, env.URL+"/v1/shelves/1", nil); code != 200 {
			t.Fatalf("call %d: got %d %s, want 200", i, code, body)
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("50 calls took %v with no collector", d)
	}
	start = time.Now()
	opsShutdown(t, env.Server)
	if d := time.Since(start); d > 6*time.Second {
		t.Errorf("shutdown took %v with no collector", d)
	}
}
