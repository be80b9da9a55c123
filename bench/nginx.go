package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// nginxName is the nginx target, as printed.
const nginxName = "nginx grpc_pass"

// nginxConf is the nginx config template, beside this file.
const nginxConf = "bench/nginx.conf"

// startNginx starts nginx (master and workers) with bench/nginx.conf in
// front of backend, on a free loopback port, and waits until a call
// through it succeeds. Its CPU time is the master's and its workers'.
func startNginx(ctx context.Context, root, dir, backend, book string) (*proc, string, error) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		return nil, "", fmt.Errorf("nginx not found (Debian package nginx-light): %v", err)
	}
	addr, err := freePort()
	if err != nil {
		return nil, "", err
	}
	tpl, err := os.ReadFile(filepath.Join(root, nginxConf))
	if err != nil {
		return nil, "", err
	}
	prefix := filepath.Join(dir, "nginx")
	if err := os.MkdirAll(prefix, 0o700); err != nil {
		return nil, "", err
	}
	conf := strings.NewReplacer("@PREFIX@", prefix, "@BACKEND@", backend, "@LISTEN@", addr).Replace(string(tpl))
	confPath := filepath.Join(prefix, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		return nil, "", err
	}
	p, _, err := startProc(ctx, "nginx", bin, []string{"-p", prefix, "-c", confPath, "-e", "stderr"}, nil, startTimeout)
	if err != nil {
		return nil, "", err
	}
	p.tree = true
	if err := waitGRPC(ctx, "nginx", addr, book); err != nil {
		p.stop()
		return nil, "", fmt.Errorf("%v\n%s", err, p.output())
	}
	return p, addr, nil
}

// freePort returns a loopback address with a port free at the moment.
func freePort() (string, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := lis.Addr().String()
	return addr, lis.Close()
}

// cpuTime returns the CPU time the process has used so far; with tree,
// its children's (nginx's workers) too.
func (p *proc) cpuTime(c cpuClock) (time.Duration, error) {
	t, err := c.cpuTime(p.pid())
	if err != nil || !p.tree {
		return t, err
	}
	for _, child := range children(p.pid()) {
		if ct, err := c.cpuTime(child); err == nil {
			t += ct
		}
	}
	return t, nil
}

// children lists pid's child processes (/proc/PID/task/*/children).
func children(pid int) []int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var out []int
	for _, f := range tasks {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, s := range strings.Fields(string(data)) {
			if n, err := strconv.Atoi(s); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}
