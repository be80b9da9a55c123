package main

// The command line is read with the standard library's flag package: it
// already takes every flag as -name and --name, parses values and reports
// unknown flags. What it lacks is small and written here: subcommands,
// help texts that list only a command's own flags, a short and a long
// name for one flag, and environment variables as the fallback for flags.
// A CLI library (cobra, kong, ff) would bring a dependency tree and its
// own conventions for a handful of commands and flags.

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Exit statuses.
const (
	exitOK      = 0 // done
	exitFailure = 1 // the command was right but running it failed (a port in use, ...)
	exitUsage   = 2 // bad command line, or a config with problems
)

// options are the values of every command's flags.
type options struct {
	config                    string
	httpAddr, grpcAddr, admin string
	json                      bool
	discover                  bool
}

// flagSpec is one flag: a long name, an optional one-letter name, the
// environment variable that stands in for it, and its help.
type flagSpec struct {
	long, short string
	arg         string // placeholder of the value; "" for a boolean flag
	help        string
	bind        func(fs *flag.FlagSet, name string, o *options)
	noEnv       bool // no environment variable stands in for it
}

// env is the environment variable for a flag: PORTICO_ and the long name
// in capitals.
func (f flagSpec) env() string {
	return "PORTICO_" + strings.ToUpper(strings.ReplaceAll(f.long, "-", "_"))
}

func stringFlag(long, short, arg, help string, field func(*options) *string) flagSpec {
	return flagSpec{long: long, short: short, arg: arg, help: help, bind: func(fs *flag.FlagSet, name string, o *options) {
		fs.StringVar(field(o), name, "", "")
	}}
}

var (
	configFlag = stringFlag("config", "c", "FILE", "config file (YAML)", func(o *options) *string { return &o.config })
	httpFlag   = stringFlag("http", "", "ADDR", "REST/JSON listen address (overrides listen.http)", func(o *options) *string { return &o.httpAddr })
	grpcFlag   = stringFlag("grpc", "", "ADDR", "gRPC listen address (overrides listen.grpc)", func(o *options) *string { return &o.grpcAddr })
	adminFlag  = stringFlag("admin", "", "ADDR", "admin listen address (overrides listen.admin)", func(o *options) *string { return &o.admin })
	jsonFlag   = flagSpec{long: "json", help: "print JSON instead of a table", bind: func(fs *flag.FlagSet, name string, o *options) {
		fs.BoolVar(&o.json, name, false, "")
	}}
	discoverFlag = flagSpec{long: "discover", help: "fetch discover: true integrations' descriptors (dials their backends)",
		bind: func(fs *flag.FlagSet, name string, o *options) { fs.BoolVar(&o.discover, name, false, "") }}
)

// command is one subcommand.
type command struct {
	name    string
	summary string // one line, for the list of commands
	usage   string // the synopsis
	about   string // what it does, for its help
	flags   []flagSpec
	run     func(o *options, stdout, stderr io.Writer) int
	// raw, when set, reads the command's arguments itself (a command with
	// subcommands and arguments: keys).
	raw func(args []string, getenv func(string) string, stdout, stderr io.Writer) int
}

// commands lists the subcommands in the order help shows them. It is
// filled in by init, since help refers back to it.
var commands []*command

func init() {
	commands = []*command{
		{
			name:    "serve",
			summary: "serve the gateway (the default command; with no config, the demo)",
			usage:   "portico [serve] [-c FILE] [--http ADDR] [--grpc ADDR] [--admin ADDR]",
			about: `Serve the gateway for a config file until SIGINT or SIGTERM. With no config
(no --config, no PORTICO_CONFIG), serve the demo: the example bookstore
backend in-process with Portico in front of it. The config is checked
first, as validate checks it; a config with problems is not served.`,
			flags: []flagSpec{configFlag, httpFlag, grpcFlag, adminFlag},
			run:   serveCmd,
		},
		{
			name:    "validate",
			summary: "check a config and everything it references; report every problem",
			usage:   "portico validate -c FILE [--discover]",
			about: `Check a config file and everything it names — descriptor sets, rules files,
services, HTTP rules, integrations, policies — as serve would, without
serving, connecting to anything or opening what a running gateway holds
(the quota state file). Every problem is reported in one run, one per line
as FILE:LINE:COLUMN: KEY: PROBLEM, in file order. The APIs of discover: true
integrations are not checked (a warning says so) unless --discover fetches
their descriptors from the backends.`,
			flags: []flagSpec{configFlag, discoverFlag},
			run:   validateCmd,
		},
		{
			name:    "routes",
			summary: "list the HTTP routes and gRPC methods a config exposes",
			usage:   "portico routes -c FILE [--json] [--discover]",
			about: `List what a config exposes: one row per HTTP binding (HTTP method, path
template, gRPC method, integration, streaming shape), and one row per
method that has no HTTP binding and is served over gRPC only. Like validate,
it connects to nothing: the APIs of discover: true integrations are listed
only with --discover, which fetches their descriptors from the backends.`,
			flags: []flagSpec{configFlag, jsonFlag, discoverFlag},
			run:   routesCmd,
		},
		{
			name:    "keys",
			summary: "create, list, revoke, rotate managed API keys and read their usage (admin API)",
			usage:   "portico keys create|list|revoke ID|rotate ID|usage ID --admin ADDR [--admin-token TOKEN] [--json]",
			about: `Manage the API keys of a running gateway through its admin API (gRPC on
listen.admin, with the admin token): create a managed key (its secret is
printed once: only its SHA-256 is stored), list the keys (managed and
keys_file, never a secret), revoke one, rotate one (a new secret; the old
one keeps working for --grace), and show what a key has used of its usage
plan. The api_key provider must have store: redis for the changes.`,
			flags: keysFlags,
			raw:   keysCmd,
		},
		{
			name:    "version",
			summary: "print the version and the VCS commit it was built from",
			usage:   "portico version",
			about:   "Print the module version, the VCS commit and the Go version of this binary.",
			run:     func(_ *options, stdout, _ io.Writer) int { return versionCmd(stdout) },
		},
		{
			name:    "help",
			summary: "show help for a command",
			usage:   "portico help [COMMAND]",
			about:   "Show the list of commands, or a command's usage and flags.",
		},
	}
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// usageError is a mistake on the command line. hint names the help to read.
type usageError struct {
	msg, hint string
}

func (e *usageError) Error() string { return e.msg }

func usagef(cmd, format string, args ...any) *usageError {
	hint := "portico help"
	if cmd != "" {
		hint += " " + cmd
	}
	return &usageError{msg: fmt.Sprintf(format, args...), hint: hint}
}

// errHelp asks for a command's help.
var errHelp = errors.New("help requested")

// parseFlags reads a command's flags from args, then, for each flag not
// given, its environment variable: a flag wins over the environment, which
// wins over the config file (the config's own values are used only where
// neither gives one). Arguments left over are an error: no command takes
// any.
func parseFlags(c *command, args []string, getenv func(string) string) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("portico "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	for _, f := range c.flags {
		f.bind(fs, f.long, o)
		if f.short != "" {
			f.bind(fs, f.short, o)
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, errHelp
		}
		return nil, usagef(c.name, "%s: %v", c.name, err)
	}
	if rest := fs.Args(); len(rest) > 0 {
		if lookup(rest[0]) != nil && c.name == "serve" {
			return nil, usagef("", "unexpected argument %q: the command comes before its flags (portico %s [flags])", rest[0], rest[0])
		}
		return nil, usagef(c.name, "%s: unexpected argument %q (%s takes no arguments)", c.name, rest[0], c.name)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, f := range c.flags {
		if set[f.long] || f.short != "" && set[f.short] {
			continue
		}
		v := getenv(f.env())
		if v == "" {
			continue
		}
		if err := fs.Set(f.long, v); err != nil {
			if f.arg == "" {
				return nil, usagef(c.name, "%s=%q: want true or false", f.env(), v)
			}
			return nil, usagef(c.name, "%s=%q: %v", f.env(), v, err)
		}
	}
	return o, nil
}

// topHelp is the help of portico itself.
func topHelp(w io.Writer) {
	fmt.Fprint(w, `Portico is a gRPC-native API gateway.

Usage:
  portico [COMMAND] [FLAGS]

Commands:
`)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Flags:
  -h, --help    show this help
  --version     print the version (as portico version)

A command's flags come after it: portico validate -c portico.yaml. With no
command, portico serves, and the flags are serve's: portico -c portico.yaml.
Every flag can be set in the environment instead, as PORTICO_ and its long
name in capitals (PORTICO_CONFIG for --config; of keys' flags, only --admin
and --admin-token); a flag wins over the environment, which wins over the
config file.

Exit status: 0 done, 1 a failure while running, 2 a bad command line or a
config with problems.

Run 'portico help COMMAND' for a command's flags.
`)
}

// commandHelp is the help of one command: its usage, what it does, and its
// own flags with their environment variables.
func commandHelp(w io.Writer, c *command) {
	fmt.Fprintf(w, "Usage:\n  %s\n\n%s\n\nFlags:\n", c.usage, c.about)
	rows := [][2]string{}
	for _, f := range c.flags {
		name := "--" + f.long
		if f.short != "" {
			name = "-" + f.short + ", " + name
		}
		if f.arg != "" {
			name += " " + f.arg
		}
		help := f.help
		if !f.noEnv {
			help += " [$" + f.env() + "]"
		}
		rows = append(rows, [2]string{name, help})
	}
	rows = append(rows, [2]string{"-h, --help", "show this help"})
	width := 0
	for _, r := range rows {
		width = max(width, len(r[0]))
	}
	for _, r := range rows {
		fmt.Fprintf(w, "  %-*s  %s\n", width, r[0], r[1])
	}
}
