package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is a child process the benchmark started: the backend or a gateway.
type proc struct {
	name   string
	cmd    *exec.Cmd
	exited chan struct{} // closed once cmd.Wait returns
	err    error         // cmd.Wait's result, set before exited closes

	mu   sync.Mutex
	tail []string // the last lines of output, for error messages

	// tree: its CPU time includes its children's (nginx's workers).
	tree bool
}

// tailLines is how many output lines a proc keeps for error messages.
const tailLines = 20

// startProc starts path with args and waits (at most timeout, or until ctx
// ends) for a line of its standard output matching ready; it returns the
// match's submatches. The process is stopped again if it does not get
// there. Output after that line is kept only as a short tail. With a nil
// ready it returns once the process has started.
func startProc(ctx context.Context, name, path string, args []string, ready *regexp.Regexp, timeout time.Duration) (*proc, []string, error) {
	return startProcEnv(ctx, name, path, args, nil, ready, timeout)
}

// startProcEnv is startProc with env added to the process's environment.
func startProcEnv(ctx context.Context, name, path string, args, env []string, ready *regexp.Regexp, timeout time.Duration) (*proc, []string, error) {
	p := &proc{name: name, cmd: exec.Command(path, args...), exited: make(chan struct{})}
	if env != nil {
		p.cmd.Env = append(os.Environ(), env...)
	}
	setProcAttr(p.cmd)
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("%s: %v", name, err)
	}
	matched := make(chan []string, 1)
	var readers sync.WaitGroup
	readers.Add(2)
	go func() { defer readers.Done(); p.scan(stdout, ready, matched) }()
	go func() { defer readers.Done(); p.scan(stderr, nil, nil) }()
	go func() {
		readers.Wait() // Wait must not run before the pipes are drained
		p.err = p.cmd.Wait()
		close(p.exited)
	}()

	if ready == nil { // the caller checks readiness itself
		return p, nil, nil
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case m := <-matched:
		return p, m, nil
	case <-p.exited:
		return nil, nil, fmt.Errorf("%s exited before it was ready (%v):\n%s", name, p.err, p.output())
	case <-timer.C:
		p.stop()
		return nil, nil, fmt.Errorf("%s printed no line matching %q within %v:\n%s", name, ready, timeout, p.output())
	case <-ctx.Done():
		p.stop()
		return nil, nil, ctx.Err()
	}
}

// scan reads r line by line into the tail; the first line matching ready
// (if any) is sent on matched.
func (p *proc) scan(r io.Reader, ready *regexp.Regexp, matched chan<- []string) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		p.mu.Lock()
		p.tail = append(p.tail, line)
		if len(p.tail) > tailLines {
			p.tail = p.tail[len(p.tail)-tailLines:]
		}
		p.mu.Unlock()
		if ready != nil {
			if m := ready.FindStringSubmatch(line); m != nil {
				matched <- m
				ready = nil
			}
		}
	}
	// Keep draining on a scanner error (an overlong line) so the
	// child never blocks on a full pipe.
	_, _ = io.Copy(io.Discard, r)
}

// output returns the tail of the process's output, indented.
func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.tail) == 0 {
		return "  (no output)"
	}
	return "  " + strings.Join(p.tail, "\n  ")
}

// pid returns the process id.
func (p *proc) pid() int { return p.cmd.Process.Pid }

// alive reports whether the process is still running.
func (p *proc) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// stop asks the process to stop (SIGTERM), and kills it if it has not
// exited within 5 seconds. It waits for the exit either way.
func (p *proc) stop() {
	if !p.alive() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// procs are the processes started so far, stopped in reverse order.
type procs []*proc

// stopAll stops every process, last started first.
func (ps procs) stopAll() {
	for i := len(ps) - 1; i >= 0; i-- {
		ps[i].stop()
	}
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

// rss returns the process's resident set size (VmRSS) in bytes; with tree,
// its children's too.
func (p *proc) rss() (int64, error) {
	n, err := vmRSS(p.pid())
	if err != nil || !p.tree {
		return n, err
	}
	for _, child := range children(p.pid()) {
		if c, err := vmRSS(child); err == nil {
			n += c
		}
	}
	return n, nil
}

// vmRSS reads VmRSS from /proc/PID/status, in bytes.
func vmRSS(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest) // "1234 kB"
			if len(f) == 2 && f[1] == "kB" {
				if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil {
					return kb << 10, nil
				}
			}
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no VmRSS line", pid)
}
