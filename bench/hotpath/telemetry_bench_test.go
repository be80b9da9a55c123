package hotpath

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server"
	"github.com/portico-gw/portico/server/servertest"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
)

// sink is an OTLP/gRPC trace receiver that drops what it gets: the
// exporter's cost is measured, not a collector's.
type sink struct {
	collectortrace.UnimplementedTraceServiceServer
}

func (sink) Export(context.Context, *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

func startSink(b *testing.B) string {
	b.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(srv, sink{})
	go srv.Serve(lis)
	b.Cleanup(srv.Stop)
	return lis.Addr().String()
}

// telemetryVariants are the settings compared: telemetry off; metrics on
// with tracing at sampling_ratio 0 (the target: <= 1.05x the CPU of off);
// the same with every trace sampled and exported to a receiver; and with
// the JSON access log too (written to io.Discard).
func telemetryVariants(receiver string) []struct {
	name string
	tel  *configv1.Telemetry
} {
	ratio := func(r float64) *float64 { return &r }
	return []struct {
		name string
		tel  *configv1.Telemetry
	}{
		{"off", nil},
		{"metrics+ratio0", &configv1.Telemetry{Metrics: &configv1.Metrics{Prometheus: true}, Traces: &configv1.Traces{OtlpEndpoint: receiver, SamplingRatio: ratio(0)}}},
		{"metrics+ratio1", &configv1.Telemetry{Metrics: &configv1.Metrics{Prometheus: true}, Traces: &configv1.Traces{OtlpEndpoint: receiver, SamplingRatio: ratio(1)}}},
		{"metrics+ratio0+accesslog", &configv1.Telemetry{Metrics: &configv1.Metrics{Prometheus: true}, Traces: &configv1.Traces{OtlpEndpoint: receiver, SamplingRatio: ratio(0)}, AccessLog: "json"}},
	}
}

func startWithTelemetry(b *testing.B, tel *configv1.Telemetry) *servertest.Env {
	return servertest.Start(b, servertest.Options{
		Config: func(c *configv1.Config) {
			c.Integrations[0].GetGrpc().Timeout = nil
			c.Telemetry = tel
		},
		Server: server.Options{AccessLog: io.Discard},
	})
}

// BenchmarkTelemetryRESTGet measures BenchmarkRESTGet's call (GET
// /v1/shelves/1/books/1 over loopback HTTP) under each telemetry setting:
//
//	go test -run='^$' -bench=BenchmarkTelemetry -benchtime=2s -count=5 ./bench/hotpath/
//
// cpu-ns/op is the whole process's CPU per call: client, gateway and
// backend (the same for every variant, so differences are the gateway's).
func BenchmarkTelemetryRESTGet(b *testing.B) {
	receiver := startSink(b)
	for _, v := range telemetryVariants(receiver) {
		b.Run(v.name, func(b *testing.B) {
			env := startWithTelemetry(b, v.tel)
			url := env.URL + getPath
			tr := &http.Transport{MaxIdleConnsPerHost: 256}
			b.Cleanup(tr.CloseIdleConnections)
			client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
			mustGet(b, client, url)
			b.ReportAllocs()
			b.SetParallelism(parallelism)
			stop := measureCPU(b)
			defer stop()
			b.RunParallel(func(pb *testing.PB) {
				req, err := http.NewRequest(http.MethodGet, url, nil)
				if err != nil {
					b.Error(err)
					return
				}
				for pb.Next() {
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("GET %s: %s", url, resp.Status)
						return
					}
				}
			})
		})
	}
}

// BenchmarkTelemetryGRPC is the same comparison on the gRPC door
// (GetBook, one client connection).
func BenchmarkTelemetryGRPC(b *testing.B) {
	receiver := startSink(b)
	for _, v := range telemetryVariants(receiver) {
		b.Run(v.name, func(b *testing.B) {
			env := startWithTelemetry(b, v.tel)
			client := bookstorev1.NewBookstoreServiceClient(env.Conn)
			req := &bookstorev1.GetBookRequest{Name: "shelves/1/books/1"}
			if _, err := client.GetBook(context.Background(), req); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetParallelism(parallelism)
			stop := measureCPU(b)
			defer stop()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := client.GetBook(context.Background(), req); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
