package hotpath

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
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
		{"metrics", &configv1.Telemetry{Metrics: &configv1.Metrics{Prometheus: true}}},
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

// BenchmarkTelemetryInterleaved compares the settings of
// BenchmarkTelemetryRESTGet under the same conditions: one gateway per
// setting, all running, and the calls sent in slices that take turns
// (the order rotating), so a burst of load from elsewhere on the machine
// lands on every setting alike. It reports each setting's CPU per call and
// its ratio to "off". b.N is the number of calls per setting:
//
//	go test -run='^$' -bench=BenchmarkTelemetryInterleaved -benchtime=40000x -count=3 ./bench/hotpath/
func BenchmarkTelemetryInterleaved(b *testing.B) {
	b.Run("rest", func(b *testing.B) {
		interleaved(b, func(env *servertest.Env) func(n int) {
			tr := &http.Transport{MaxIdleConnsPerHost: 256}
			b.Cleanup(tr.CloseIdleConnections)
			client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
			url := env.URL + getPath
			mustGet(b, client, url)
			return func(n int) { callN(b, client, url, n) }
		})
	})
	b.Run("grpc", func(b *testing.B) {
		interleaved(b, func(env *servertest.Env) func(n int) {
			client := bookstorev1.NewBookstoreServiceClient(env.Conn)
			req := &bookstorev1.GetBookRequest{Name: "shelves/1/books/1"}
			return func(n int) {
				parallelN(n, func() error {
					_, err := client.GetBook(context.Background(), req)
					return err
				}, b)
			}
		})
	})
}

// interleaved runs the telemetry settings' gateways side by side; caller
// makes, for one gateway, what sends n calls to it.
func interleaved(b *testing.B, caller func(env *servertest.Env) func(n int)) {
	receiver := startSink(b)
	variants := telemetryVariants(receiver)
	calls := make([]func(int), len(variants))
	for i, v := range variants {
		calls[i] = caller(startWithTelemetry(b, v.tel))
		calls[i](100) // warm up
	}
	const slices = 20
	per := b.N / slices
	if per < 1 {
		per = 1
	}
	cpu := make([]time.Duration, len(variants))
	b.ReportAllocs()
	b.ResetTimer()
	for s := 0; s < slices; s++ {
		for j := range variants {
			i := (j + s) % len(variants)
			start, _ := processCPU()
			calls[i](per)
			end, _ := processCPU()
			cpu[i] += end - start
		}
	}
	b.StopTimer()
	n := float64(per * slices)
	off := float64(cpu[0]) / n
	for i, v := range variants {
		ns := float64(cpu[i]) / n
		b.ReportMetric(ns, v.name+"-cpu-ns/call")
		if i > 0 {
			b.ReportMetric(ns/off, v.name+"/off")
		}
	}
}

// parallelN makes n calls of f from 32 goroutines.
func parallelN(n int, f func() error, b *testing.B) {
	var wg sync.WaitGroup
	var next atomic.Int64
	for g := 0; g < parallelism*2; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if err := f(); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// callN sends n GETs from 32 goroutines (as RunParallel does on 2 cores).
func callN(b *testing.B, client *http.Client, url string, n int) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		b.Fatal(err)
	}
	parallelN(n, func() error {
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		return nil
	}, b)
}
