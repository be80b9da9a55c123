package server_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

func edgeLimits(c *configv1.Config) {
	c.Limits = &configv1.Limits{
		ReadHeaderTimeout:    durationpb.New(2 * time.Second),
		MaxHeaderBytes:       proto32(4096),
		MaxConcurrentStreams: proto32(8),
	}
}

func proto32(v uint32) *uint32 { return &v }

// TestTrafficSlowloris opens 300 connections on each door that send
// their request head a few bytes at a time (REST) or nothing at all
// (gRPC): a normal client is still served promptly, and the gateway
// closes the slow connections once read_header_timeout (2s) has passed.
func TestTrafficSlowloris(t *testing.T) {
	_, addr := trafficBackend(t)
	gw := startTrafficGateway(t, addr, gatewayOptions{edit: edgeLimits})
	const n = 300
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var closed atomic.Int64
	var wg sync.WaitGroup
	slow := func(target string, trickle bool) {
		defer wg.Done()
		c, err := net.Dial("tcp", target)
		if err != nil {
			t.Errorf("dial: %v", err)
			return
		}
		defer c.Close()
		context.AfterFunc(ctx, func() { c.Close() })
		if trickle {
			if _, err := io.WriteString(c, "GET /v1/shelves HTTP/1.1\r\nHost: portico\r\n"); err != nil {
				return
			}
			go func() {
				for i := 0; ctx.Err() == nil; i++ {
					if _, err := io.WriteString(c, "X-Slow: "+strings.Repeat("a", i%5)+"\r\n"); err != nil {
						return
					}
					select {
					case <-ctx.Done():
					case <-time.After(300 * time.Millisecond):
					}
				}
			}()
		}
		// The gateway ends the connection (a read error or EOF); an
		// answer without one does not count.
		var buf [512]byte
		for {
			if _, err := c.Read(buf[:]); err != nil {
				if ctx.Err() == nil {
					closed.Add(1)
				}
				return
			}
		}
	}
	restAddr := strings.TrimPrefix(gw.url, "http://")
	for i := 0; i < n; i++ {
		wg.Add(2)
		go slow(restAddr, true)
		go slow(gw.srv.GRPCAddr, false)
	}
	// A normal client on both doors, while the slow ones hang on.
	client := servertest.Client()
	for i := 0; i < 5; i++ {
		start := time.Now()
		if rc := doREST(t, client, "GET", gw.url+"/v1/shelves", ""); rc.status != http.StatusOK {
			t.Fatalf("REST during the slowloris: got %d", rc.status)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("REST call %d during the slowloris took %v; want it served promptly", i+1, d)
		}
		start = time.Now()
		if err := grpcListShelves(gw); err != nil {
			t.Fatalf("gRPC during the slowloris: %v", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("gRPC call %d during the slowloris took %v; want it served promptly", i+1, d)
		}
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		<-done
	}
	if got := closed.Load(); got != 2*n {
		t.Errorf("slow connections the gateway closed within 10s: got %d, want %d (read_header_timeout 2s)", got, 2*n)
	}
}

func TestTrafficHeaderTooLarge(t *testing.T) {
	backend, addr := trafficBackend(t)
	gw := startTrafficGateway(t, addr, gatewayOptions{edit: edgeLimits})
	big := strings.Repeat("x", 8<<10)
	rc := doREST(t, servertest.Client(), "GET", gw.url+"/v1/shelves", "", "X-Big", big)
	if rc.status != http.StatusRequestHeaderFieldsTooLarge || rc.header.Get("Content-Type") != "application/json" {
		t.Errorf("REST, 8 KiB header over a 4 KiB limit: got %d %q %s, want 431 with a JSON error", rc.status, rc.header.Get("Content-Type"), rc.raw)
	}
	ctx := metadata.AppendToOutgoingContext(context.Background(), "x-big", big)
	_, err := bookstorev1.NewBookstoreServiceClient(gw.conn).ListShelves(ctx, &bookstorev1.ListShelvesRequest{})
	// grpc-go clients check the header list size the server advertises
	// (SETTINGS_MAX_HEADER_LIST_SIZE) and fail the call themselves; other
	// clients get the stream reset.
	t.Logf("gRPC, 8 KiB metadata: %v", err)
	if st := status.Convert(err); err == nil || !strings.Contains(st.Message(), "header list size") {
		t.Errorf("gRPC, 8 KiB metadata over a 4 KiB limit: got %v, want the header list size refused", err)
	}
	if backend.Calls() != 0 {
		t.Errorf("backend calls: got %d, want 0", backend.Calls())
	}
	// Headers under the limit are fine.
	if rc := doREST(t, servertest.Client(), "GET", gw.url+"/v1/shelves", "", "X-Small", big[:1024]); rc.status != http.StatusOK {
		t.Errorf("REST, 1 KiB header: got %d, want 200", rc.status)
	}
}

// TestTrafficGRPCRapidReset floods the gRPC door with streams opened and
// reset at once (CVE-2023-44487) on one connection: grpc-go runs at most
// max_concurrent_streams handlers per connection and stops reading the
// connection until one ends, so the calls in flight stay bounded and a
// normal client is served promptly.
func TestTrafficGRPCRapidReset(t *testing.T) {
	_, addr := trafficBackend(t)
	gw := startTrafficGateway(t, addr, gatewayOptions{edit: edgeLimits})
	c, err := net.Dial("tcp", gw.srv.GRPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	checkRapidReset(t, c, [][2]string{
		{":method", "POST"}, {":scheme", "http"}, {":authority", "portico"},
		{":path", "/example.bookstore.v1.BookstoreService/ListShelves"},
		{"content-type", "application/grpc"}, {"te", "trailers"},
	}, false, func() int64 { _, g := gw.srv.InFlight(); return g }, func() error { return grpcListShelves(gw) })
}

// TestTrafficRESTRapidReset is the same flood on the REST door, over TLS
// (HTTP/2 is negotiated there): net/http runs at most
// max_concurrent_streams handlers per connection, and a normal client is
// served promptly.
func TestTrafficRESTRapidReset(t *testing.T) {
	s := newTLSSetup(t)
	_, addr := trafficBackend(t)
	cfg := s.config(addr, false)
	cfg.Auth, cfg.Apis[0].Auth = nil, nil
	edgeLimits(cfg)
	srv := startTLSGateway(t, cfg, s.dir)
	c, err := tls.Dial("tcp", srv.HTTPAddr, &tls.Config{RootCAs: s.serverCA.Pool(), ServerName: "127.0.0.1", NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	if p := c.ConnectionState().NegotiatedProtocol; p != "h2" {
		t.Fatalf("negotiated %q, want h2", p)
	}
	client := httpsClient(s.clientTLS())
	checkRapidReset(t, c, [][2]string{
		{":method", "GET"}, {":scheme", "https"}, {":authority", "portico"}, {":path", "/v1/shelves"},
	}, true, func() int64 { r, _ := srv.InFlight(); return r }, func() error {
		resp, err := client.Get("https://" + srv.HTTPAddr + "/v1/shelves")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("got %d, want 200", resp.StatusCode)
		}
		return nil
	})
}

// checkRapidReset floods c, an HTTP/2 connection to a door with
// max_concurrent_streams 8, for 3 s with streams opened and reset at once
// (see rapidReset) while making ten normal calls: each must be served
// within a second, and the door's calls in flight (inFlight) must stay
// within 8 handlers for the flooding connection and 1 for the normal one.
func checkRapidReset(t *testing.T, c net.Conn, fields [][2]string, endStream bool, inFlight func() int64, normal func() error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	sent, floodDone := rapidReset(ctx, t, c, fields, endStream)
	maxInFlight, sampleDone := sampleMax(ctx, inFlight)
	for i := 0; i < 10; i++ {
		start := time.Now()
		if err := normal(); err != nil {
			t.Fatalf("normal call %d during the flood: %v", i+1, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("normal call %d during the flood took %v; want it served promptly", i+1, d)
		}
	}
	<-ctx.Done()
	<-floodDone
	<-sampleDone
	t.Logf("streams opened and reset: %d; most calls in flight seen: %d", sent(), maxInFlight())
	if sent() < 100 {
		t.Fatalf("the flood sent %d streams; the test says nothing", sent())
	}
	if got := maxInFlight(); got > 8+1 {
		t.Errorf("calls in flight during the flood: up to %d, want at most max_concurrent_streams (8) + 1", got)
	}
}

// rapidReset opens streams with the given header fields on c, an HTTP/2
// connection (ending each request's stream when endStream is set), and
// resets each at once (CVE-2023-44487), until ctx ends or the server stops
// reading. sent tells how many; done is closed when the
// flood is over. c is closed when ctx ends.
func rapidReset(ctx context.Context, t *testing.T, c net.Conn, fields [][2]string, endStream bool) (sent func() int64, done <-chan struct{}) {
	t.Helper()
	t.Cleanup(func() { c.Close() })
	context.AfterFunc(ctx, func() { c.Close() })
	go io.Copy(io.Discard, c) // the server's frames: settings, resets
	fr := http2.NewFramer(c, nil)
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for _, f := range fields {
		enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	block := hb.Bytes()
	var n atomic.Int64
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for id := uint32(1); id < 1<<20 && ctx.Err() == nil; id += 2 {
			if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block, EndHeaders: true, EndStream: endStream}); err != nil {
				return
			}
			if err := fr.WriteRSTStream(id, http2.ErrCodeCancel); err != nil {
				return
			}
			n.Add(1)
		}
	}()
	return n.Load, finished
}

// sampleMax samples value every 200µs until ctx ends; max tells the
// largest seen once done is closed.
func sampleMax(ctx context.Context, value func() int64) (max func() int64, done <-chan struct{}) {
	var m atomic.Int64
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for ctx.Err() == nil {
			if v := value(); v > m.Load() {
				m.Store(v)
			}
			time.Sleep(200 * time.Microsecond)
		}
	}()
	return m.Load, finished
}

// TestTrafficGRPCAdvertisesStreamLimit checks the gRPC door's HTTP/2
// settings: the stream limit that bounds its handlers under a rapid-reset
// flood, and the header list size.
func TestTrafficGRPCAdvertisesStreamLimit(t *testing.T) {
	_, addr := trafficBackend(t)
	gw := startTrafficGateway(t, addr, gatewayOptions{edit: edgeLimits})
	c, err := net.Dial("tcp", gw.srv.GRPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(c, c)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	f, err := fr.ReadFrame()
	if err != nil {
		t.Fatal(err)
	}
	sf, ok := f.(*http2.SettingsFrame)
	if !ok {
		t.Fatalf("first frame: got %T, want SETTINGS", f)
	}
	want := map[http2.SettingID]uint32{http2.SettingMaxConcurrentStreams: 8, http2.SettingMaxHeaderListSize: 4096}
	for id, v := range want {
		if got, ok := sf.Value(id); !ok || got != v {
			t.Errorf("SETTINGS %v: got %d (present %v), want %d", id, got, ok, v)
		}
	}
}

// TestTrafficQueryLimits: limits.max_query_params bounds the parameters of
// a REST query (default 1000), and the depth of a parameter's field path
// follows max_json_depth (the recursion limit, 2 × depth + 2).
func TestTrafficQueryLimits(t *testing.T) {
	_, addr := trafficBackend(t)
	gw := startTrafficGateway(t, addr, gatewayOptions{edit: func(c *configv1.Config) {
		c.Limits = &configv1.Limits{MaxQueryParams: proto32(5), MaxJsonDepth: proto32(8)}
	}})
	for _, tc := range []struct {
		query string
		want  int
		msg   string
	}{
		{"tags=a&tags=b&tags=c&tags=d&tags=e", http.StatusOK, ""},
		{"tags=a&tags=b&tags=c&tags=d&tags=e&tags=f", http.StatusBadRequest, "more than 5 parameters"},
		{strings.Repeat("min_review.", 15) + "stars=1", http.StatusOK, ""}, // unknown beyond min_review: ignored
		{strings.Repeat("min_review.", 17) + "stars=1", http.StatusBadRequest, "deeper than 17 fields"},
	} {
		code, body := restGet(t, gw.url+"/v1/shelves/1/books?"+tc.query)
		if code != tc.want || !strings.Contains(string(body), tc.msg) {
			t.Errorf("%.60s: got %d %s, want %d %q", tc.query, code, body, tc.want, tc.msg)
		}
	}
}
