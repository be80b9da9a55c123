package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/config"
	"github.com/portico-gw/portico/server"
	"github.com/portico-gw/portico/snapshot"
)

// serveCmd checks the config, as validate does for the file itself, then
// serves it (serve.go). A config with problems is reported in full, with
// exit status 2, before anything listens.
func serveCmd(o *options, stdout, stderr io.Writer) int {
	var cfg *config.File
	if o.config != "" {
		f, code := loadConfig(o.config, stderr)
		if code != exitOK {
			return code
		}
		cfg = f
	}
	return serve(cfg, overrides{http: o.httpAddr, grpc: o.grpcAddr, admin: o.admin}, stdout, stderr)
}

func validateCmd(o *options, stdout, stderr io.Writer) int {
	snap, code := buildFrom("validate", o, stderr)
	if snap == nil {
		return code
	}
	defer snap.Close()
	printWarnings(stderr, snap, snap.Warnings())
	printWarnings(stderr, snap, snap.Unchecked())
	rows := catalog.RouteTable(snap.Catalog())
	grpcOnly := 0
	for _, r := range rows {
		if r.Kind == catalog.KindGRPCOnly {
			grpcOnly++
		}
	}
	fmt.Fprintf(stdout, "%s: ok (%s; %s: %d with HTTP routes, %d gRPC-only; %s)\n", o.config,
		plural(len(snap.Catalog().Services()), "service"), plural(len(snap.Catalog().Methods()), "method"),
		len(snap.Catalog().Methods())-grpcOnly, grpcOnly, plural(len(rows)-grpcOnly, "HTTP route"))
	return exitOK
}

func routesCmd(o *options, stdout, stderr io.Writer) int {
	snap, code := buildFrom("routes", o, stderr)
	if snap == nil {
		return code
	}
	defer snap.Close()
	printWarnings(stderr, snap, snap.Unchecked())
	rows := catalog.RouteTable(snap.Catalog())
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if rows == nil {
			rows = []catalog.RouteRow{}
		}
		if err := enc.Encode(struct {
			Routes []catalog.RouteRow `json:"routes"`
		}{rows}); err != nil {
			fmt.Fprintf(stderr, "portico: %v\n", err)
			return exitFailure
		}
		return exitOK
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	hosts := slices.ContainsFunc(rows, func(r catalog.RouteRow) bool { return len(r.Hosts) > 0 })
	if hosts {
		fmt.Fprint(tw, "HOSTS\t") // only when an API has hosts
	}
	fmt.Fprintln(tw, "METHOD\tPATH\tGRPC METHOD\tINTEGRATION\tSTREAMING\tTIMEOUT")
	grpcOnly := 0
	for _, r := range rows {
		method, path := r.HTTPMethod, r.Path
		if r.Kind == catalog.KindGRPCOnly {
			method, path = "-", "(gRPC only)"
			grpcOnly++
		}
		if hosts {
			fmt.Fprintf(tw, "%s\t", cmp.Or(strings.Join(r.Hosts, ","), "*"))
		}
		timeout := r.Timeout
		if timeout == "" {
			timeout = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", method, path, r.GRPCMethod, r.Integration, r.Streaming, timeout)
	}
	_ = tw.Flush()
	if grpcOnly > 0 {
		fmt.Fprintf(stdout, "\n%s served over gRPC only: no google.api.http rule, and default_bindings is off for their API\n"+
			"(default_bindings: true exposes them at POST /{package.Service}/{Method}).\n", plural(grpcOnly, "method"))
	}
	return exitOK
}

// loadConfig loads a config file, reporting every problem in it.
func loadConfig(path string, stderr io.Writer) (*config.File, int) {
	f, err := config.Load(path)
	if err == nil {
		return f, exitOK
	}
	if f == nil && !isProblems(err) {
		unreadable(stderr, path, err)
		return nil, exitUsage
	}
	printProblems(stderr, path, err)
	return nil, exitUsage
}

// buildFrom loads a config and builds a snapshot from it only to check it
// (snapshot.Options.Check): nothing is served, dialled or opened that a
// running gateway owns — a check runs beside one. With --discover the
// descriptors of discover: true integrations are fetched from their
// backends. Every problem is reported, those in the file and those found
// while building, in file order; building goes ahead on a file with
// problems, to find the others in the same run.
func buildFrom(cmd string, o *options, stderr io.Writer) (*snapshot.Snapshot, int) {
	path := o.config
	if path == "" {
		return nil, usageFailed(stderr, usagef(cmd, "%s: --config FILE is required (or PORTICO_CONFIG)", cmd))
	}
	f, err := config.Load(path)
	if f == nil {
		if !isProblems(err) {
			unreadable(stderr, path, err)
		} else {
			printProblems(stderr, path, err)
		}
		return nil, exitUsage
	}
	snap, buildErr := snapshot.Build(f, snapshot.Options{Logger: slog.New(slog.DiscardHandler), Check: true, Discover: o.discover})
	if all := f.Join(err, buildErr, server.CheckTLS(f)); all != nil {
		if snap != nil {
			_ = snap.Close()
		}
		printProblems(stderr, path, all)
		return nil, exitUsage
	}
	return snap, exitOK
}

// unreadable reports a config file that cannot be read, by the name it
// was given.
func unreadable(w io.Writer, path string, err error) {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	fmt.Fprintf(w, "portico: %s: cannot read the config: %v\n", path, err)
}

func isProblems(err error) bool {
	var e *config.Error
	return errors.As(err, &e)
}

// printProblems lists a config's problems, one per line as
// FILE:LINE:COLUMN: KEY: PROBLEM (the form editors jump to), then one
// "portico:" line that counts them.
func printProblems(w io.Writer, path string, err error) {
	var es config.Errors
	if !errors.As(err, &es) {
		fmt.Fprintf(w, "portico: %v\n", err)
		return
	}
	for _, e := range es {
		fmt.Fprintln(w, e.Error())
	}
	fmt.Fprintf(w, "portico: %s: %s\n", path, plural(len(es), "problem"))
}

// printWarnings lists problems that do not stop the config (resolved
// route conflicts, rules for unexposed methods, methods not served, what
// a check could not check), placed in the file.
func printWarnings(w io.Writer, snap *snapshot.Snapshot, warnings []*config.Error) {
	for _, warn := range warnings {
		located := *warn
		_ = snap.Config().Locate(&located)
		located.Message = "warning: " + located.Message
		fmt.Fprintln(w, located.Error())
	}
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// versionString may be set at build time:
// go build -ldflags "-X main.versionString=v1.2.3" ./cmd/portico.
var versionString = ""

func versionCmd(w io.Writer) int {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	fmt.Fprintln(w, versionLine(versionString, bi))
	return exitOK
}

// versionLine says which build this is: the module version (set by go
// install module@version, or by go build in a clone from its tag and
// commit), the VCS commit and whether the tree had changes (set by go
// build in a git clone), and the Go version.
func versionLine(override string, bi *debug.BuildInfo) string {
	version, commit, modified, goVersion := "devel", "unknown", false, "unknown Go"
	if bi != nil {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			version = v
		}
		goVersion = bi.GoVersion
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if override != "" {
		version = override
	}
	if modified {
		commit += ", modified"
	}
	return fmt.Sprintf("portico %s (commit %s; %s)", version, commit, goVersion)
}
