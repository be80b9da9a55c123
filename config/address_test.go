package config

import (
	"strings"
	"testing"
)

func TestListenAddress(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1:8080":       "",
		":8080":                "",
		"localhost:0":          "",
		"[::1]:9090":           "",
		"[fe80::1%eth0]:9090":  "",
		"gateway.internal.:80": "",
		"999.0.0.1:80":         `"999.0.0.1" is not an IP address or a valid host name`,
		"127.0.0.1:":           "has no port after the colon",
		"127.0.0.1":            "missing port in address",
		"127.0.0.1:http":       `port "http" is not a number`,
		"-bad.example:80":      "is not an IP address or a valid host name",
		"a..b:80":              "is not an IP address or a valid host name",
	} {
		checkMessage(t, "listenAddress", addr, listenAddress(addr), want)
	}
}

func TestGRPCTarget(t *testing.T) {
	for target, want := range map[string]string{
		"127.0.0.1:50051":             "",
		"backend:50051":               "",
		"[::1]:50051":                 "",
		"dns:///backend.internal:443": "",
		"dns://10.0.0.2/backend:443":  "",
		"passthrough:///127.0.0.1:1":  "",
		"unix:///run/b.sock":          "",
		"unix:b.sock":                 "",
		"unix-abstract:portico":       "",
		"http://127.0.0.1:35051":      "is a URL, not a grpc target: write 127.0.0.1:35051",
		"https://api.example.com":     "is a URL, not a grpc target: write api.example.com",
		"grpc://127.0.0.1:1":          "is a URL, not a grpc target",
		"127.0.0.1:":                  "has no port after the colon",
		"127.0.0.1:0":                 "port 0 cannot be called",
		"backend":                     "has no port",
		"dns:backend:443":             "write dns:///backend:443",
		"dns://backend:443":           "write dns:///backend:443",
		"dns:///":                     "has no host:port after dns:///",
		"unix://":                     "has no socket path",
		"xds:///svc":                  `unknown scheme "xds"`,
		"999.0.0.1:50051":             "is not an IP address or a valid host name",
		"dns:///999.1.1.1:1":          "is not an IP address or a valid host name",
		"passthrough:///127.0.0.1:":   "has no port after the colon",
	} {
		checkMessage(t, "grpcTarget", target, grpcTarget(target), want)
	}
}

func TestHTTPURL(t *testing.T) {
	for raw, want := range map[string]string{
		"https://legacy.example.com/api": "",
		"http://127.0.0.1:8081":          "",
		"http://[::1]:8081/x":            "",
		"legacy.example.com":             "has no scheme",
		"ftp://x.example/":               "the scheme must be http or https",
		"http:///path":                   "has no host",
		"http://999.0.0.1/":              "is not an IP address or a valid host name",
		"http://x.example:/":             "has no port after the colon",
		"http://x.example:99999/":        "is not a number from 0 to 65535",
		"http://x.example:0/":            "port 0 cannot be called",
		"http://x.example/?a=1":          "takes no query or fragment",
		"http://u:p@x.example/":          "carries credentials",
		"http://x example/":              "is not a URL",
	} {
		checkMessage(t, "httpURL", raw, httpURL(raw), want)
	}
}

func TestHostPort(t *testing.T) {
	for addr, want := range map[string]string{
		"otel.internal:4317": "",
		":4317":              "has no host",
		"otel.internal":      "missing port in address",
	} {
		checkMessage(t, "hostPort", addr, hostPort(addr), want)
	}
}

// checkMessage checks that got is "" when want is, and otherwise holds want.
func checkMessage(t *testing.T, fn, in, got, want string) {
	t.Helper()
	if want == "" && got != "" || want != "" && !strings.Contains(got, want) {
		t.Errorf("%s(%q) = %q, want %q", fn, in, got, want)
	}
}
