package server_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/types/known/emptypb"
)

// TestCompressionSSEFlushedPerMessage: a Server-Sent Events answer
// compressed with gzip gives the client each event as the backend sends
// it: the backend sends its next message only once the client has
// decompressed the previous one (a compressor holding data would stall
// the test until its deadline).
func TestCompressionSSEFlushedPerMessage(t *testing.T) {
	const messages = 4
	next := make(chan struct{})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// hostile.v1.Hostile/Watch: one Thing{name: "m<i>"} per step.
	srv := grpc.NewServer(grpc.UnknownServiceHandler(func(_ any, ss grpc.ServerStream) error {
		if err := ss.RecvMsg(&emptypb.Empty{}); err != nil {
			return err
		}
		for i := range messages {
			if i > 0 {
				select {
				case <-next:
				case <-ss.Context().Done():
					return ss.Context().Err()
				}
			}
			m := &emptypb.Empty{}
			m.ProtoReflect().SetUnknown(protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), fmt.Sprintf("m%d", i)))
			if err := ss.SendMsg(m); err != nil {
				return err
			}
		}
		return nil
	}))
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	env := servertest.StartGateway(t, lis.Addr().String(), servertest.Options{Config: func(c *configv1.Config) {
		c.Descriptors = []string{servertest.HostileDir()}
		c.Apis[0].Services = []string{servertest.HostileService}
	}})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", env.URL+"/v1/things:watch", strings.NewReader(`{"name":"w"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ce, ct := resp.Header.Get("Content-Encoding"), resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ce != "gzip" || !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("got %d, Content-Type %q, Content-Encoding %q; want 200 text/event-stream gzip", resp.StatusCode, ct, ce)
	}
	gz, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	events := bufio.NewReader(gz)
	var slowest time.Duration
	for i := range messages {
		start := time.Now()
		if i > 0 {
			select {
			case next <- struct{}{}:
			case <-ctx.Done():
				t.Fatalf("event %d: the backend never asked for it", i)
			}
		}
		// An event's data line, then the blank line that ends it.
		for {
			line, err := events.ReadString('\n')
			if err != nil {
				t.Fatalf("event %d: %v (not flushed?)", i, err)
			}
			if strings.HasPrefix(line, "data:") {
				if !strings.Contains(line, fmt.Sprintf(`"m%d"`, i)) {
					t.Errorf("event %d: got %q, want message m%d", i, line, i)
				}
				break
			}
		}
		slowest = max(slowest, time.Since(start))
	}
	t.Logf("%d events, each decompressed by the client before the backend sent the next; slowest %v", messages, slowest)
}
