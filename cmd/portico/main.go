// Command portico is the Portico API gateway.
//
//	portico [serve] [-c portico.yaml] [-http addr] [-grpc addr] [-admin addr]
//	portico validate -c portico.yaml
//	portico routes -c portico.yaml
//	portico version
//
// With no -c, serve runs the built-in demo: the example bookstore backend
// in-process with Portico in front of it.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("portico "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("c", "", "config file (YAML); serve without it runs the demo")
	httpAddr := fs.String("http", "", "REST/JSON listen address (overrides listen.http)")
	grpcAddr := fs.String("grpc", "", "gRPC listen address (overrides listen.grpc)")
	adminAddr := fs.String("admin", "", "admin listen address (overrides listen.admin)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	over := overrides{http: *httpAddr, grpc: *grpcAddr, admin: *adminAddr}
	switch cmd {
	case "serve":
		return serve(*cfgPath, over, stdout, stderr)
	case "validate":
		return validateCmd(*cfgPath, stdout, stderr)
	case "routes":
		return routesCmd(*cfgPath, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "portico", version())
		return 0
	default:
		fmt.Fprintf(stderr, "portico: unknown command %q (serve, validate, routes, version)\n", cmd)
		return 2
	}
}
