package main

import (
	"fmt"
	"io"
	"runtime/debug"
	"text/tabwriter"

	"github.com/portico-gw/portico/config"
	"github.com/portico-gw/portico/server"
	"github.com/portico-gw/portico/transcoder"
)

// buildFrom loads and builds a config without serving it. Building makes
// no connection: grpc clients connect on first use.
func buildFrom(cfgPath string) (*server.Snapshot, error) {
	if cfgPath == "" {
		return nil, fmt.Errorf("-c FILE is required")
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return nil, err
	}
	return server.Build(cfg, server.BuildOptions{})
}

func validateCmd(cfgPath string, stdout, stderr io.Writer) int {
	snap, err := buildFrom(cfgPath)
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return 1
	}
	defer snap.Close()
	fmt.Fprintf(stdout, "%s: ok (%d services, %d methods, %d routes)\n", cfgPath,
		len(snap.Catalog.Services), len(snap.Catalog.Methods), len(transcoder.Routes(snap.Catalog)))
	return 0
}

func routesCmd(cfgPath string, stdout, stderr io.Writer) int {
	snap, err := buildFrom(cfgPath)
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return 1
	}
	defer snap.Close()
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "METHOD\tPATH\tGRPC METHOD\tINTEGRATION")
	for _, r := range transcoder.Routes(snap.Catalog) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.HTTPMethod, r.Pattern, r.GRPCMethod, r.Integration)
	}
	_ = tw.Flush()
	return 0
}

// versionString is set with -ldflags "-X main.versionString=v1.2.3".
var versionString = ""

func version() string {
	if versionString != "" {
		return versionString
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
