package server_test

// One test per finding of issue 14's operator-correctness and
// grpc-gateway-parity items ("The edge holds"), named for it. (The
// hardening findings are in regress_test.go.)

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/portico-gw/portico/server/servertest"
)

// TestRegressReflectionDescribesErrorDetails: the gateway sends
// google.rpc error details (a BadRequest for a request that fails
// validation, QuotaFailure and RetryInfo when a rate limit refuses), but
// server reflection did not describe google/rpc/error_details.proto, so
// grpcurl printed the detail as undecodable bytes.
func TestRegressReflectionDescribesErrorDetails(t *testing.T) {
	grpcurl := buildGRPCurl(t)
	env := servertest.Start(t, servertest.Options{})
	var out bytes.Buffer
	cmd := exec.Command(grpcurl, "-plaintext", "-max-time", "10", "-d", `{"shelf": 0}`,
		env.Server.GRPCAddr, "example.bookstore.v1.BookstoreService/GetShelf")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err == nil {
		t.Fatalf("grpcurl GetShelf with shelf 0: got success, want InvalidArgument\n%s", out.String())
	}
	got := out.String()
	for _, want := range []string{"Code: InvalidArgument", `"@type": "type.googleapis.com/google.rpc.BadRequest"`, `"fieldViolations"`, `"field": "shelf"`} {
		if !strings.Contains(got, want) {
			t.Errorf("grpcurl's error output lacks %s; got\n%s", want, got)
		}
	}
}
