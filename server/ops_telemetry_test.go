package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portico-gw/portico/config"
	"github.com/portico-gw/portico/examples/bookstore"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server"
	"github.com/portico-gw/portico/server/servertest"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracev1 "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
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

// shutdown stops the gateway now (its telemetry flushes), within the test.
func opsShutdown(t *testing.T, s *server.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

func opsGet(t *testing.T, url string, header http.Header) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := servertest.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
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

func opsContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
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

// scrape reads /metrics from the admin listener and parses it with
// Prometheus' own text parser.
func scrape(t *testing.T, s *server.Server) (map[string]*dto.MetricFamily, string) {
	t.Helper()
	code, body := opsGet(t, "http://"+s.AdminAddr+"/metrics", nil)
	if code != 200 {
		t.Fatalf("GET /metrics: got %d %s", code, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	return families, string(body)
}

// series finds the metric of family with exactly these labels (the
// unlisted ones empty or absent).
func series(t *testing.T, families map[string]*dto.MetricFamily, family string, labels map[string]string) *dto.Metric {
	t.Helper()
	f, ok := families[family]
	if !ok {
		t.Fatalf("no metric family %s", family)
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, lp := range m.GetLabel() {
			have[lp.GetName()] = lp.GetValue()
		}
		for k, v := range labels {
			if have[k] != v {
				continue next
			}
		}
		return m
	}
	return nil
}

func TestMetricsPrometheus(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
		c.Telemetry = &configv1.Telemetry{Metrics: &configv1.Metrics{Prometheus: true}}
		withDocs(c)
	}})
	for i := 0; i < 2; i++ {
		opsGet(t, env.URL+"/v1/shelves/1", nil)
	}
	opsGet(t, env.URL+"/no/such/route", nil)
	opsGet(t, env.URL+"/openapi.json", nil)
	req, _ := http.NewRequest(http.MethodDelete, env.URL+"/v1/shelves", nil)
	if resp, err := servertest.Client().Do(req); err == nil {
		resp.Body.Close()
	}
	if resp, err := servertest.Client().Post(env.URL+"/v1/shelves", "application/json", strings.NewReader(`{"theme":""}`)); err == nil {
		resp.Body.Close()
	}
	client := bookstorev1.NewBookstoreServiceClient(env.Conn)
	if _, err := client.GetShelf(context.Background(), &bookstorev1.GetShelfRequest{Shelf: 1}); err != nil {
		t.Fatal(err)
	}
	const random = "/no.such.Service/Random8c1f2"
	if err := env.Conn.Invoke(context.Background(), random, &emptypb.Empty{}, &emptypb.Empty{}); status.Code(err) != codes.Unimplemented {
		t.Fatalf("unknown method: got %v, want UNIMPLEMENTED", err)
	}
	if _, err := healthpb.NewHealthClient(env.Conn).Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}

	const api, getShelf = "example.bookstore.v1.BookstoreService", "/example.bookstore.v1.BookstoreService/GetShelf"
	want := []struct {
		labels map[string]string
		count  uint64
	}{
		{map[string]string{"door": "rest", "api": api, "method": getShelf, "route": "/v1/shelves/{shelf}", "status": "200"}, 2},
		{map[string]string{"door": "rest", "api": "", "method": "", "route": "", "status": "404"}, 1},
		{map[string]string{"door": "rest", "route": "", "status": "405"}, 1}, // the door matched no route
		{map[string]string{"door": "rest", "route": "/openapi.json", "status": "200"}, 1},
		{map[string]string{"door": "rest", "method": "/example.bookstore.v1.BookstoreService/CreateShelf", "status": "400"}, 1},
		{map[string]string{"door": "grpc", "api": api, "method": getShelf, "route": getShelf, "status": "OK"}, 1},
		{map[string]string{"door": "grpc", "api": "", "method": "", "route": "", "status": "UNIMPLEMENTED"}, 1},
		{map[string]string{"door": "grpc", "method": "/grpc.health.v1.Health/Check", "status": "OK"}, 1},
	}
	mismatches := func(families map[string]*dto.MetricFamily) []string {
		var out []string
		for _, tc := range want {
			m := series(t, families, "portico_request_duration_seconds", tc.labels)
			if m == nil || m.GetHistogram().GetSampleCount() != tc.count {
				out = append(out, fmt.Sprintf("portico_request_duration_seconds%v: got %v, want a count of %d", tc.labels, m.GetHistogram(), tc.count))
			}
		}
		return out
	}
	// A gRPC call is recorded when the server's stats handler sees its end,
	// which may come just after the client has its answer: scrape until
	// every call is in (or time is up, and the test fails below).
	var families map[string]*dto.MetricFamily
	var text string
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		families, text = scrape(t, env.Server)
		if len(mismatches(families)) == 0 || time.Now().After(deadline) {
			break
		}
		<-tick.C
	}
	for _, m := range mismatches(families) {
		t.Error(m)
	}
	if strings.Contains(text, "Random8c1f2") {
		t.Errorf("a method name a client made up reached the metrics' labels")
	}
	if m := series(t, families, "portico_refusals_total", map[string]string{"door": "rest", "reason": "validation", "method": "/example.bookstore.v1.BookstoreService/CreateShelf"}); m.GetCounter().GetValue() != 1 {
		t.Errorf("validation refusals: got %v, want 1", m)
	}
	if m := series(t, families, "portico_backend_duration_seconds", map[string]string{"integration": "bookstore", "method": getShelf, "status": "OK"}); m.GetHistogram().GetSampleCount() != 3 {
		t.Errorf("backend GetShelf calls: got %v, want 3 (two REST, one gRPC)", m.GetHistogram())
	}
	for _, tc := range []struct {
		family string
		labels map[string]string
	}{
		{"portico_calls_in_flight", map[string]string{"door": "rest"}},
		{"portico_calls_in_flight", map[string]string{"door": "grpc"}},
		{"portico_reloads_total", map[string]string{"outcome": "success"}},
		{"portico_reloads_total", map[string]string{"outcome": "failure"}},
		{"go_goroutine_count", nil},
		{"go_memory_used_bytes", nil},
	} {
		if series(t, families, tc.family, tc.labels) == nil {
			t.Errorf("no %s%v", tc.family, tc.labels)
		}
	}
}

// TestMetricsCountReloads: reloads and their outcome.
func TestMetricsCountReloads(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
		c.Telemetry = &configv1.Telemetry{Metrics: &configv1.Metrics{Prometheus: true}}
	}})
	fail := true
	env.Server.SetRebuild(func(_ context.Context, cur *server.Snapshot) (*server.Snapshot, error) {
		if fail {
			return nil, fmt.Errorf("a broken config")
		}
		return server.Build(cur.Config, server.BuildOptions{})
	})
	_ = env.Server.Reload(context.Background())
	fail = false
	if err := env.Server.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	families, _ := scrape(t, env.Server)
	for outcome, want := range map[string]float64{"success": 1, "failure": 1} {
		if m := series(t, families, "portico_reloads_total", map[string]string{"outcome": outcome}); m.GetCounter().GetValue() != want {
			t.Errorf("portico_reloads_total{outcome=%q}: got %v, want %v", outcome, m, want)
		}
	}
}

func TestMetricsNeedTheAdminListener(t *testing.T) {
	cfg := servertest.BookstoreConfig("127.0.0.1:1")
	cfg.Listen.Admin = ""
	cfg.Telemetry = &configv1.Telemetry{Metrics: &configv1.Metrics{Prometheus: true}}
	snap := opsBuild(t, cfg)
	_, err := server.New(snap, server.Listen{HTTP: "127.0.0.1:0"}, nil)
	if err == nil || !strings.Contains(err.Error(), "listen.admin") {
		t.Errorf("metrics without an admin listener: got %v, want an error naming listen.admin", err)
	}
}

// TestAccessLog: one JSON line per call, on both doors, refusals too, with
// no credential in it.
func TestAccessLog(t *testing.T) {
	var mu sync.Mutex
	var buf bytes.Buffer
	env := servertest.Start(t, servertest.Options{
		Config: func(c *configv1.Config) {
			c.Telemetry = &configv1.Telemetry{AccessLog: "json", Traces: &configv1.Traces{OtlpEndpoint: "127.0.0.1:1"}}
		},
		Server: server.Options{AccessLog: lockedWriter{&mu, &buf}},
	})
	const secret = "s3cr3t-T0KEN"
	opsGet(t, env.URL+"/v1/shelves/1?api_key="+secret, http.Header{"Authorization": {"Bearer " + secret}, "Cookie": {"session=" + secret}})
	opsGet(t, env.URL+"/nope", nil)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+secret)
	if _, err := bookstorev1.NewBookstoreServiceClient(env.Conn).GetShelf(ctx, &bookstorev1.GetShelfRequest{Shelf: 1}); err != nil {
		t.Fatal(err)
	}
	opsShutdown(t, env.Server)

	var text string
	eventually(t, "three access log lines", func() bool {
		mu.Lock()
		text = buf.String()
		mu.Unlock()
		return strings.Count(text, "\n") >= 3
	})
	if strings.Contains(text, secret) {
		t.Errorf("the access log holds a credential:\n%s", text)
	}
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		var l map[string]any
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("not a JSON line: %q: %v", sc.Text(), err)
		}
		lines = append(lines, l)
	}
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want one per call (3):\n%s", len(lines), text)
	}
	rest, refused, grpcLine := lines[0], lines[1], lines[2]
	for k, want := range map[string]any{"msg": "access", "door": "rest", "http_method": "GET", "path": "/v1/shelves/1", "status": 200.0,
		"method": "/example.bookstore.v1.BookstoreService/GetShelf", "route": "/v1/shelves/{shelf}", "client_ip": "127.0.0.1"} {
		if rest[k] != want {
			t.Errorf("REST line %s: got %v, want %v", k, rest[k], want)
		}
	}
	for _, k := range []string{"time", "duration_ms", "backend_ms", "bytes_in", "bytes_out", "trace_id"} {
		if _, ok := rest[k]; !ok {
			t.Errorf("REST line: no %s in %v", k, rest)
		}
	}
	if d, b := rest["duration_ms"].(float64), rest["backend_ms"].(float64); b <= 0 || b > d {
		t.Errorf("REST line: backend_ms %v, duration_ms %v: want 0 < backend <= total", b, d)
	}
	if out, _ := rest["bytes_out"].(float64); out <= 0 {
		t.Errorf("REST line: bytes_out %v, want the response's size", rest["bytes_out"])
	}
	if refused["status"] != 404.0 || refused["route"] != "" || refused["backend_ms"] != 0.0 {
		t.Errorf("404 line: got %v, want status 404, no route, no backend time", refused)
	}
	if grpcLine["door"] != "grpc" || grpcLine["grpc_code"] != "OK" || grpcLine["method"] != "/example.bookstore.v1.BookstoreService/GetShelf" {
		t.Errorf("gRPC line: got %v", grpcLine)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// opsBuild builds a snapshot of cfg, closed at the end of the test.
func opsBuild(t *testing.T, cfg *configv1.Config) *server.Snapshot {
	t.Helper()
	snap, err := server.Build(&config.File{Config: cfg, Dir: "."}, server.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { snap.Close() })
	return snap
}

// eventually polls cond until it holds, failing the test after 10s. For
// what is recorded just after a client has its answer (a gRPC server's
// stats handler sees a call end after the status is sent).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}
