package integrations_test

import (
	"errors"
	"github.com/portico-gw/portico/call"
	"io"
	"slices"
	"sort"
	"testing"

	"github.com/portico-gw/portico/integrations"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func TestForwardable(t *testing.T) {
	tests := []struct {
		key  string
		keep bool
	}{
		{":authority", false},
		{":path", false},
		{"grpc-timeout", false},
		{"grpc-encoding", false},
		{"grpc-accept-encoding", false},
		{"grpc-metadata-x", false},
		{"content-type", false},
		{"user-agent", false},
		{"te", false},
		{"connection", false},
		{"keep-alive", false},
		{"proxy-connection", false},
		{"transfer-encoding", false},
		{"upgrade", false},
		{"host", false},
		{"authorization", true},
		{"x-request-id", true},
		{"x-grpc-thing", true},
		{"grpcfoo", true},
		{"x-trace-bin", true},
		{"content-length", true},
		{"x-delay", true},
	}
	md := metadata.MD{}
	var want []string
	for _, tt := range tests {
		md[tt.key] = []string{"v-" + tt.key}
		if tt.keep {
			want = append(want, tt.key)
		}
	}
	got := integrations.Forwardable(md)
	var gotKeys []string
	for k, v := range got {
		gotKeys = append(gotKeys, k)
		if len(v) != 1 || v[0] != "v-"+k {
			t.Errorf("key %q: got values %q, want [%q]", k, v, "v-"+k)
		}
	}
	sort.Strings(gotKeys)
	sort.Strings(want)
	if !slices.Equal(gotKeys, want) {
		t.Errorf("got keys %q, want %q", gotKeys, want)
	}
}

func TestForwardableEmpty(t *testing.T) {
	if got := integrations.Forwardable(metadata.MD{}); len(got) != 0 {
		t.Errorf("got %v, want empty", got)
	}
	if got := integrations.Forwardable(nil); len(got) != 0 {
		t.Errorf("nil: got %v, want empty", got)
	}
}

func TestSanitize(t *testing.T) {
	detailed, err := status.New(codes.Unavailable, "shard 3 is draining").WithDetails(&errdetails.RetryInfo{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		err      error
		answered bool
		wantCode codes.Code
		wantMsg  string
		same     bool // the error is returned as it is (or marked: it wraps it)
		backend  bool // marked as the backend's own (call.IsFromBackend)
	}{
		{"backend status, answered", status.Error(codes.NotFound, "shelf 9 not found"), true, codes.NotFound, "shelf 9 not found", true, true},
		{"non-unavailable status, not answered", status.Error(codes.DeadlineExceeded, "context deadline exceeded"), false, codes.DeadlineExceeded, "context deadline exceeded", true, false},
		{"deadline, answered", status.Error(codes.DeadlineExceeded, "context deadline exceeded"), true, codes.DeadlineExceeded, "context deadline exceeded", true, false},
		{"unavailable, answered", detailed.Err(), true, codes.Unavailable, "shard 3 is draining", true, true},
		{"unavailable, not answered", status.Error(codes.Unavailable, "connection error: desc = \"transport: Error while dialing: dial tcp 10.1.2.3:9000: connect: connection refused\""), false, codes.Unavailable, "backend unavailable", false, false},
		{"not a status", errors.New("dial tcp 10.1.2.3:9000: refused"), true, codes.Unavailable, "backend unavailable", false, false},
		{"not a status, not answered", io.ErrUnexpectedEOF, false, codes.Unavailable, "backend unavailable", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := integrations.Sanitize(tt.err, tt.answered)
			st, ok := status.FromError(got)
			if !ok {
				t.Fatalf("got %v, want a status error", got)
			}
			if st.Code() != tt.wantCode || st.Message() != tt.wantMsg {
				t.Errorf("got %v %q, want %v %q", st.Code(), st.Message(), tt.wantCode, tt.wantMsg)
			}
			if tt.same && !errors.Is(got, tt.err) {
				t.Errorf("got a new error %v, want the backend's error kept", got)
			}
			if call.IsFromBackend(got) != tt.backend {
				t.Errorf("call.IsFromBackend = %v, want %v", call.IsFromBackend(got), tt.backend)
			}
		})
	}
	// Details survive when the backend's status is kept.
	st := status.Convert(integrations.Sanitize(detailed.Err(), true))
	if len(st.Details()) != 1 {
		t.Errorf("got %d details, want 1", len(st.Details()))
	}
}
