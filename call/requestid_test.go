package call

import "testing"

func TestRequestIDKey(t *testing.T) {
	for _, tc := range []struct{ header, want string }{
		{"X-Request-Id", "x-request-id"},
		{"X-Correlation-ID", "x-correlation-id"},
		{"X-Request-Id", "x-request-id"}, // the remembered form
		{"", ""},
	} {
		info := &Info{}
		info.SetRequestID(tc.header, "id-1")
		if got := info.RequestIDKey(); got != tc.want {
			t.Errorf("RequestIDKey() with header %q: got %q, want %q", tc.header, got, tc.want)
		}
	}
	var none *Info
	if got := none.RequestIDKey(); got != "" {
		t.Errorf("nil Info: got %q, want \"\"", got)
	}
	info := &Info{}
	info.SetRequestID("X-Request-Id", "id-1")
	if n := testing.AllocsPerRun(100, func() { _ = info.RequestIDKey() }); n != 0 {
		t.Errorf("RequestIDKey allocates %v times per call once its header was seen, want 0", n)
	}
}
