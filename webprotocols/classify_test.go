package webprotocols

import (
	"net/http/httptest"
	"testing"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		method, target, ct, version string
		want                        Protocol
	}{
		{"POST", "/pkg.S/M", "application/json", "", REST},
		{"POST", "/pkg.S/M", "application/json", "1", Connect},
		{"POST", "/pkg.S/M", "application/proto", "1", Connect},
		{"POST", "/pkg.S/M", "application/connect+json", "", Connect},
		{"POST", "/pkg.S/M", "application/connect+proto", "", Connect},
		{"POST", "/pkg.S/M", "application/grpc-web", "", GRPCWeb},
		{"POST", "/pkg.S/M", "application/grpc-web+proto", "", GRPCWeb},
		{"POST", "/pkg.S/M", "Application/GRPC-Web-Text", "", GRPCWeb},
		{"POST", "/pkg.S/M", "application/grpc", "", REST},
		{"POST", "/pkg.S/M", "application/json", "2", REST},
		{"GET", "/pkg.S/M?connect=v1&encoding=json&message=%7B%7D", "", "", Connect},
		{"GET", "/pkg.S/M?connect=v2", "", "", REST},
		{"GET", "/pkg.S/M?xconnect=v1", "", "", REST},
		{"POST", "/pkg.S/M?connect=v1", "application/json", "", REST},
		{"GET", "/v1/shelves", "", "", REST},
	} {
		r := httptest.NewRequest(tc.method, tc.target, nil)
		if tc.ct != "" {
			r.Header.Set("Content-Type", tc.ct)
		}
		if tc.version != "" {
			r.Header.Set("Connect-Protocol-Version", tc.version)
		}
		if got := Classify(r); got != tc.want {
			t.Errorf("%s %s (%q, version %q): got %v, want %v", tc.method, tc.target, tc.ct, tc.version, got, tc.want)
		}
	}
}
