// Command portico is the Portico API gateway.
//
//	portico [serve] [-c portico.yaml] [--http addr] [--grpc addr] [--admin addr]
//	portico validate -c portico.yaml
//	portico routes -c portico.yaml [--json]
//	portico keys create|list|revoke|rotate|usage --admin ADDR [--admin-token TOKEN] [--json]
//	portico version
//	portico help [command]
//
// With no config, serve runs the built-in demo: the example bookstore
// backend in-process with Portico in front of it. Every flag can be set in
// the environment as PORTICO_<LONG NAME> (PORTICO_CONFIG for --config); a
// flag wins over the environment, which wins over the config file. Exit
// status: 0 done, 1 a failure while running, 2 a bad command line or a
// config with problems.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run runs the command line args and returns the exit status.
func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	c, rest, err := pickCommand(args)
	if err == nil {
		switch {
		case c == nil:
			topHelp(stdout)
			return exitOK
		case c.name == "help":
			return helpCmd(rest, stdout, stderr)
		case c.raw != nil:
			return c.raw(rest, getenv, stdout, stderr)
		}
		var o *options
		if o, err = parseFlags(c, rest, getenv); err == nil {
			return c.run(o, stdout, stderr)
		}
		if errors.Is(err, errHelp) {
			commandHelp(stdout, c)
			return exitOK
		}
	}
	return usageFailed(stderr, err)
}

// pickCommand finds the command args ask for, and the arguments left for
// it. A nil command with no error asks for portico's own help.
//
// The command comes first. Arguments that start with a flag are serve's
// (serve is the default command), so "portico -c x.yaml validate" is not a
// validation: it is a usage error that says to put the command first.
func pickCommand(args []string) (*command, []string, error) {
	if len(args) == 0 {
		return lookup("serve"), nil, nil
	}
	switch first := args[0]; {
	case first == "-h" || first == "-help" || first == "--help":
		if len(args) == 1 {
			return nil, nil, nil
		}
		return lookup("help"), args[1:], nil
	case first == "-version" || first == "--version":
		if len(args) > 1 {
			return nil, nil, usagef("", "unexpected argument %q after %s", args[1], first)
		}
		return lookup("version"), nil, nil
	case strings.HasPrefix(first, "-"):
		return lookup("serve"), args, nil
	case lookup(first) != nil:
		return lookup(first), args[1:], nil
	default:
		return nil, nil, usagef("", "unknown command %q (commands: %s)", first, commandNames())
	}
}

// helpCmd is "portico help [COMMAND]".
func helpCmd(args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 0:
		topHelp(stdout)
	case len(args) > 1:
		return usageFailed(stderr, usagef("help", "help: unexpected argument %q (help takes one command name)", args[1]))
	case args[0] == "-h" || args[0] == "-help" || args[0] == "--help":
		commandHelp(stdout, lookup("help"))
	case lookup(args[0]) == nil:
		return usageFailed(stderr, usagef("", "help: unknown command %q (commands: %s)", args[0], commandNames()))
	default:
		commandHelp(stdout, lookup(args[0]))
	}
	return exitOK
}

func commandNames() string {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	return strings.Join(names, ", ")
}

// usageFailed reports a command-line mistake and returns exitUsage.
func usageFailed(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "portico: %v\n", err)
	var ue *usageError
	if errors.As(err, &ue) && ue.hint != "" {
		fmt.Fprintf(stderr, "Run '%s' for usage.\n", ue.hint)
	}
	return exitUsage
}
