package main

import (
	"runtime/debug"
	"testing"
)

// TestFlagPrecedence checks that a flag wins over its environment
// variable, and that the variable is used when the flag is absent, for
// both spellings of a flag. (The config file's own value is used by serve
// only when neither gives one: see serve.go.)
func TestFlagPrecedence(t *testing.T) {
	env := map[string]string{
		"PORTICO_CONFIG": "env.yaml",
		"PORTICO_HTTP":   "127.0.0.1:1",
		"PORTICO_GRPC":   "127.0.0.1:2",
	}
	getenv := func(k string) string { return env[k] }
	for _, tc := range []struct {
		args []string
		want options
	}{
		{nil, options{config: "env.yaml", httpAddr: "127.0.0.1:1", grpcAddr: "127.0.0.1:2"}},
		{[]string{"-c", "flag.yaml"}, options{config: "flag.yaml", httpAddr: "127.0.0.1:1", grpcAddr: "127.0.0.1:2"}},
		{[]string{"--config=flag.yaml", "--http", ":8080"}, options{config: "flag.yaml", httpAddr: ":8080", grpcAddr: "127.0.0.1:2"}},
		{[]string{"-grpc", ":9090", "--admin", ":9901"}, options{config: "env.yaml", httpAddr: "127.0.0.1:1", grpcAddr: ":9090", admin: ":9901"}},
	} {
		o, err := parseFlags(lookup("serve"), tc.args, getenv)
		if err != nil {
			t.Errorf("parseFlags(serve, %q): %v", tc.args, err)
			continue
		}
		if *o != tc.want {
			t.Errorf("parseFlags(serve, %q) = %+v, want %+v", tc.args, *o, tc.want)
		}
	}
	// An environment variable for a flag the command does not have is
	// not used.
	o, err := parseFlags(lookup("validate"), nil, getenv)
	if err != nil || o.httpAddr != "" || o.config != "env.yaml" {
		t.Errorf("parseFlags(validate) = %+v, %v; want only the config from the environment", o, err)
	}
}

func TestVersionLine(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.4.0"}}
	if got, want := versionLine("", bi), "portico v1.4.0 (commit unknown; go1.26.8)"; got != want {
		t.Errorf("versionLine(installed) = %q, want %q", got, want)
	}
	bi = &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: "4f2a9c1d0e5b7a8c9d0e1f2a3b4c5d6e7f8a9b0c"},
		{Key: "vcs.modified", Value: "true"},
	}}
	if got, want := versionLine("", bi), "portico devel (commit 4f2a9c1d0e5b7a8c9d0e1f2a3b4c5d6e7f8a9b0c, modified; go1.26.8)"; got != want {
		t.Errorf("versionLine(clone) = %q, want %q", got, want)
	}
	if got, want := versionLine("v9.9.9", bi), "portico v9.9.9 (commit 4f2a9c1d0e5b7a8c9d0e1f2a3b4c5d6e7f8a9b0c, modified; go1.26.8)"; got != want {
		t.Errorf("versionLine(-ldflags) = %q, want %q", got, want)
	}
	if got, want := versionLine("", nil), "portico devel (commit unknown; unknown Go)"; got != want {
		t.Errorf("versionLine(no build info) = %q, want %q", got, want)
	}
}
