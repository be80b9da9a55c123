package transcoder

import (
	"context"
	"net/http/httptest"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// TestIncomingMatchesGRPCGateway holds headerMap.incoming against
// grpc-gateway's runtime.AnnotateIncomingContext with the same matcher:
// same metadata, same deadline, same errors — but for x-forwarded-host,
// which is always the request's Host (grpc-gateway passes a client's
// X-Forwarded-Host on, which a backend cannot tell from the gateway's).
func TestIncomingMatchesGRPCGateway(t *testing.T) {
	forward := []string{"X-Echo", "X-Trace-Bin"}
	matcher := headerMatcher(forward)
	mux := runtime.NewServeMux(runtime.WithIncomingHeaderMatcher(matcher))
	hm := &headerMap{match: matcher}
	cases := []struct {
		name   string
		header map[string][]string
		host   string
		remote string
	}{
		{name: "no headers", remote: ""},
		{name: "plain", header: map[string][]string{"User-Agent": {"curl/8"}, "Accept": {"application/json"}}, host: "api.example", remote: "10.1.2.3:5555"},
		{name: "authorization twice", header: map[string][]string{"Authorization": {"Bearer a", "Bearer b"}}, remote: "127.0.0.1:1"},
		{name: "forwarded and not", header: map[string][]string{"X-Echo": {"1", "2"}, "X-Other": {"no"}, "Grpc-Metadata-X-Echo": {"legacy"}}, remote: "[::1]:80"},
		{name: "binary header", header: map[string][]string{"X-Trace-Bin": {"AAEC", "AAE"}}},
		{name: "bad binary header", header: map[string][]string{"X-Trace-Bin": {"!!"}}},
		{name: "non-ASCII values are dropped", header: map[string][]string{"User-Agent": {"caf\u00e9"}, "X-Echo": {"ok", "\x01"}}},
		{name: "x-forwarded headers", header: map[string][]string{"X-Forwarded-Host": {"front"}, "X-Forwarded-For": {"1.1.1.1", "bad\x7f"}}, host: "back", remote: "2.2.2.2:9"},
		{name: "grpc-timeout", header: map[string][]string{"Grpc-Timeout": {"5S"}}},
		{name: "grpc-timeout huge", header: map[string][]string{"Grpc-Timeout": {"99999999999H"}}},
		{name: "grpc-timeout bad unit", header: map[string][]string{"Grpc-Timeout": {"5x"}}},
		{name: "grpc-timeout bad number", header: map[string][]string{"Grpc-Timeout": {"-1S"}}},
		{name: "grpc-timeout short", header: map[string][]string{"Grpc-Timeout": {"S"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/v1/x", nil)
			r.Host = tc.host
			r.RemoteAddr = tc.remote
			for k, vs := range tc.header {
				for _, v := range vs {
					r.Header.Add(k, v)
				}
			}
			wantCtx, wantErr := runtime.AnnotateIncomingContext(context.Background(), mux, r, "/x.Y/Z")
			gotCtx, cancel, gotErr := hm.incoming(context.Background(), r)
			if (gotErr == nil) != (wantErr == nil) {
				t.Fatalf("error: got %v, want %v", gotErr, wantErr)
			}
			if wantErr != nil {
				if g, w := status.Convert(gotErr), status.Convert(wantErr); g.Code() != w.Code() || g.Message() != w.Message() {
					t.Errorf("error: got %v, want %v", gotErr, wantErr)
				}
				return
			}
			defer cancel()
			gotMD, _ := metadata.FromIncomingContext(gotCtx)
			wantMD, _ := metadata.FromIncomingContext(wantCtx)
			if _, ok := tc.header["X-Forwarded-Host"]; ok {
				wantMD = wantMD.Copy()
				wantMD.Delete("x-forwarded-host")
				if tc.host != "" {
					wantMD.Set("x-forwarded-host", tc.host)
				}
			}
			if !reflect.DeepEqual(normalize(gotMD), normalize(wantMD)) {
				t.Errorf("metadata:\ngot  %v\nwant %v", keysAndValues(gotMD), keysAndValues(wantMD))
			}
			gd, gok := gotCtx.Deadline()
			wd, wok := wantCtx.Deadline()
			if gok != wok || (gok && absDur(gd.Sub(wd)) > time.Second) {
				t.Errorf("deadline: got %v %v, want %v %v", gd, gok, wd, wok)
			}
		})
	}
}

func normalize(md metadata.MD) map[string][]string {
	out := map[string][]string{}
	for k, v := range md {
		out[k] = append([]string(nil), v...)
	}
	return out
}

func keysAndValues(md metadata.MD) []string {
	var out []string
	for k, vs := range md {
		for _, v := range vs {
			out = append(out, k+"="+v)
		}
	}
	sort.Strings(out)
	return out
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
