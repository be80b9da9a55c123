package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// proxy is a reference proxy the gRPC comparison runs beside Portico's
// gRPC door, in front of the same backend: a Debian package started on a
// free loopback port from a config template in bench/.
type proxy struct {
	// name is the target's name, as printed.
	name string
	// bin is the executable, found in PATH; pkg its Debian package.
	bin, pkg string
	// template is the config template, relative to the module root; the
	// benchmark fills in @PREFIX@ (a folder of its own), @BACKEND@ and
	// @LISTEN@ (host:port each) and writes it to prefix/file.
	template, file string
	// args are the command line, given the prefix and the config's path.
	args func(prefix, conf string) []string
	// env is added to the environment, given the prefix (nil: none).
	env func(prefix string) []string
	// tree: the proxy's CPU time includes its children's (workers).
	tree bool
}

// The reference proxies.
var (
	// nginxProxy is nginx-light's grpc_pass (bench/nginx.conf): a master
	// and one worker per core.
	nginxProxy = proxy{
		name: "nginx grpc_pass", bin: "nginx", pkg: "nginx-light",
		template: "bench/nginx.conf", file: "nginx.conf",
		args: func(prefix, conf string) []string { return []string{"-p", prefix, "-c", conf, "-e", "stderr"} },
		tree: true,
	}
	// haproxyProxy is HAProxy with proto h2 on both sides
	// (bench/haproxy.cfg): one process, a thread per core.
	haproxyProxy = proxy{
		name: "haproxy h2", bin: "haproxy", pkg: "haproxy",
		template: "bench/haproxy.cfg", file: "haproxy.cfg",
		args: func(_, conf string) []string { return []string{"-db", "-f", conf} },
	}
	// caddyProxy is Caddy's reverse_proxy to h2c:// (bench/Caddyfile),
	// a Go proxy like Portico; its data folders go under the prefix.
	caddyProxy = proxy{
		name: "caddy reverse_proxy", bin: "caddy", pkg: "caddy",
		template: "bench/Caddyfile", file: "Caddyfile",
		args: func(_, conf string) []string { return []string{"run", "--config", conf, "--adapter", "caddyfile"} },
		env: func(prefix string) []string {
			return []string{"HOME=" + prefix, "XDG_DATA_HOME=" + filepath.Join(prefix, "data"), "XDG_CONFIG_HOME=" + filepath.Join(prefix, "config")}
		},
	}
)

// start starts the proxy in front of backend on a free loopback port and
// waits until a call through it succeeds.
func (px proxy) start(ctx context.Context, root, dir, backend, book string) (*proc, string, error) {
	bin, err := exec.LookPath(px.bin)
	if err != nil {
		return nil, "", fmt.Errorf("%s not found (Debian package %s): %v", px.bin, px.pkg, err)
	}
	addr, err := freePort()
	if err != nil {
		return nil, "", err
	}
	tpl, err := os.ReadFile(filepath.Join(root, px.template))
	if err != nil {
		return nil, "", err
	}
	prefix := filepath.Join(dir, px.bin)
	if err := os.MkdirAll(prefix, 0o700); err != nil {
		return nil, "", err
	}
	conf := strings.NewReplacer("@PREFIX@", prefix, "@BACKEND@", backend, "@LISTEN@", addr).Replace(string(tpl))
	confPath := filepath.Join(prefix, px.file)
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		return nil, "", err
	}
	var env []string
	if px.env != nil {
		env = px.env(prefix)
	}
	p, _, err := startProcEnv(ctx, px.bin, bin, px.args(prefix, confPath), env, nil, startTimeout)
	if err != nil {
		return nil, "", err
	}
	p.tree = px.tree
	if err := waitGRPC(ctx, px.name, addr, book); err != nil {
		p.stop()
		return nil, "", fmt.Errorf("%v\n%s", err, p.output())
	}
	return p, addr, nil
}
