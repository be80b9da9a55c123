// Command ggharness runs grpc-gateway's own example programs for Portico's
// compatibility tests (server/ggcompat_test.go). It is not part of
// Portico's build: the tests copy the grpc-gateway module from the module
// cache into a temporary folder, put this file in it at
// examples/internal/porticoharness (only a package inside that module may
// import its internal example packages) and build it there.
//
//	ggharness serve
//
// serves grpc-gateway's example gRPC server (examples/internal/server) and,
// in front of it, a gateway made of the handlers grpc-gateway generated for
// the examples, registered as its example gateway registers them
// (examples/internal/gateway), with the ServeMux option its integration
// tests give it. Both listen on loopback :0 ports; one JSON line on stdout
// says where ({"grpc": "host:port", "gateway": "http://host:port"}). It
// stops when its stdin closes.
//
//	ggharness clients URL
//
// calls the gateway at URL with the Go clients grpc-gateway generated from
// the examples' OpenAPI documents (examples/internal/clients), making the
// calls its integration tests make (examples/internal/integration/client_test.go),
// and prints one line per call: "NAME ok" or "NAME error: ...".
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"

	httptransport "github.com/go-openapi/runtime/client"
	"github.com/go-openapi/strfmt"
	abeclient "github.com/grpc-ecosystem/grpc-gateway/v2/examples/internal/clients/abe/client"
	"github.com/grpc-ecosystem/grpc-gateway/v2/examples/internal/clients/abe/client/a_bit_of_everything"
	echoclient "github.com/grpc-ecosystem/grpc-gateway/v2/examples/internal/clients/echo/client"
	"github.com/grpc-ecosystem/grpc-gateway/v2/examples/internal/clients/echo/client/echo_service"
	echomodels "github.com/grpc-ecosystem/grpc-gateway/v2/examples/internal/clients/echo/models"
	uaeclient "github.com/grpc-ecosystem/grpc-gateway/v2/examples/internal/clients/unannotatedecho/client"
	"github.com/grpc-ecosystem/grpc-gateway/v2/examples/internal/clients/unannotatedecho/client/unannotated_echo_service"
	uaemodels "github.com/grpc-ecosystem/grpc-gateway/v2/examples/internal/clients/unannotatedecho/models"
	"github.com/grpc-ecosystem/grpc-gateway/v2/examples/internal/proto/examplepb"
	standalone "github.com/grpc-ecosystem/grpc-gateway/v2/examples/internal/proto/standalone"
	exampleserver "github.com/grpc-ecosystem/grpc-gateway/v2/examples/internal/server"
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

func main() {
	var err error
	switch {
	case len(os.Args) == 2 && os.Args[1] == "serve":
		err = serve()
	case len(os.Args) == 3 && os.Args[1] == "clients":
		err = clients(os.Args[2])
	default:
		err = fmt.Errorf("usage: ggharness serve | ggharness clients URL")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ggharness:", err)
		os.Exit(1)
	}
}

func serve() error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	grpcLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = exampleserver.ServeGRPC(ctx, grpcLis) }()

	conn, err := grpc.NewClient(grpcLis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	mux := runtime.NewServeMux(runtime.WithLegacyHeaderMatching())
	for _, register := range []func(context.Context, *runtime.ServeMux, *grpc.ClientConn) error{
		examplepb.RegisterEchoServiceHandler,
		standalone.RegisterUnannotatedEchoServiceHandler,
		examplepb.RegisterStreamServiceHandler,
		examplepb.RegisterABitOfEverythingServiceHandler,
		examplepb.RegisterFlowCombinationHandler,
		examplepb.RegisterExcessBodyServiceHandler,
		examplepb.RegisterNonStandardServiceHandler,
		examplepb.RegisterResponseBodyServiceHandler,
	} {
		if err := register(ctx, mux, conn); err != nil {
			return err
		}
	}
	httpLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux}
	go func() { _ = srv.Serve(httpLis) }()
	defer srv.Close()

	if err := json.NewEncoder(os.Stdout).Encode(map[string]string{
		"grpc":    grpcLis.Addr().String(),
		"gateway": "http://" + httpLis.Addr().String(),
	}); err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, os.Stdin) // until the test closes stdin
	return nil
}

func clients(base string) error {
	host := strings.TrimPrefix(base, "http://")
	transport := func() *httptransport.Runtime { return httptransport.New(host, "/", []string{"http"}) }
	ctx := context.Background()
	report := func(name string, err error) {
		if err != nil {
			fmt.Printf("%s error: %v\n", name, err)
			return
		}
		fmt.Printf("%s ok\n", name)
	}
	check := func(got, want string) error {
		if got != want {
			return fmt.Errorf("got %q, want %q", got, want)
		}
		return nil
	}

	echo := echoclient.New(transport(), strfmt.Default)
	{
		resp, err := echo.EchoService.EchoServiceEcho(echo_service.NewEchoServiceEchoParamsWithContext(ctx).WithID("foo"))
		if err == nil {
			err = check(resp.Payload.ID, "foo")
		}
		report("EchoServiceEcho", err)
	}
	{
		resp, err := echo.EchoService.EchoServiceEchoBody(echo_service.NewEchoServiceEchoBodyParamsWithContext(ctx).
			WithBody(&echomodels.ExamplepbSimpleMessage{ID: "foo"}))
		if err == nil {
			err = check(resp.Payload.ID, "foo")
		}
		report("EchoServiceEchoBody", err)
	}
	{
		resp, err := echo.EchoService.EchoServiceEchoBody2(echo_service.NewEchoServiceEchoBody2ParamsWithContext(ctx).
			WithID("foo").WithNo(&echomodels.ExamplepbEmbedded{Note: "note"}))
		if err == nil {
			err = check(resp.Payload.ID, "foo")
		}
		report("EchoServiceEchoBody2", err)
	}

	abe := abeclient.New(transport(), strfmt.Default)
	{
		str := func(s string) *string { return &s }
		uuid := strfmt.UUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
		resp, err := abe.ABitOfEverything.ABitOfEverythingServiceCreate(
			a_bit_of_everything.NewABitOfEverythingServiceCreateParamsWithContext(ctx).
				WithFloatValue(1.5).WithDoubleValue(2.5).WithInt64Value("4294967296").
				WithUint64Value("9223372036854775807").WithInt32Value(-2147483648).
				WithFixed64Value("9223372036854775807").WithFixed32Value(4294967295).
				WithBoolValue(true).WithStringValue("strprefix/foo").WithUint32Value(4294967295).
				WithSfixed32Value(2147483647).WithSfixed64Value("-4611686018427387904").
				WithSint32Value(2147483647).WithSint64Value("4611686018427387903").
				WithNonConventionalNameValue("camelCase").WithEnumValue("ZERO").
				WithPathEnumValue("ABC").WithNestedPathEnumValue("JKL").WithEnumValueAnnotation("ZERO").
				WithUUID(uuid).WithRequiredStringViaFieldBehaviorAnnotation("").
				WithRequiredStringField1("").WithRequiredStringField2("").
				WithRequiredFieldBehaviorJSONNameCustom(*str("test")).
				WithRequiredFieldSchemaJSONNameCustom(*str("test")),
			nil)
		if err == nil {
			p := resp.Payload
			switch {
			case p.UUID == nil || *p.UUID == "":
				err = fmt.Errorf("no uuid in the response")
			case p.StringValue != "strprefix/foo":
				err = check(p.StringValue, "strprefix/foo")
			case p.Int64Value == nil || *p.Int64Value != "4294967296":
				err = fmt.Errorf("int64Value: got %v, want 4294967296", p.Int64Value)
			case p.NestedPathEnumValue == nil || *p.NestedPathEnumValue != "JKL":
				err = fmt.Errorf("nestedPathEnumValue: got %v, want JKL", p.NestedPathEnumValue)
			}
		}
		report("ABitOfEverythingServiceCreate", err)
	}

	uae := uaeclient.New(transport(), strfmt.Default)
	{
		resp, err := uae.UnannotatedEchoService.UnannotatedEchoServiceEcho(unannotated_echo_service.
			NewUnannotatedEchoServiceEchoParamsWithContext(ctx).WithID("foo").WithNum("1"), nil)
		if err == nil {
			if resp.Payload.ID == nil {
				err = fmt.Errorf("no id in the response")
			} else {
				err = check(*resp.Payload.ID, "foo")
			}
		}
		report("UnannotatedEchoServiceEcho", err)
	}
	{
		id, num := "foo", "1"
		resp, err := uae.UnannotatedEchoService.UnannotatedEchoServiceEchoBody(unannotated_echo_service.
			NewUnannotatedEchoServiceEchoBodyParamsWithContext(ctx).WithBody(&uaemodels.ExamplepbUnannotatedSimpleMessage{ID: &id, Num: &num}), nil)
		if err == nil {
			if resp.Payload.ID == nil {
				err = fmt.Errorf("no id in the response")
			} else {
				err = check(*resp.Payload.ID, "foo")
			}
		}
		report("UnannotatedEchoServiceEchoBody", err)
	}
	return nil
}
