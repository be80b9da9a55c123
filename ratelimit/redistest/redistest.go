// Package redistest runs a real redis-server for tests: on a free
// loopback port, without persistence (StartPersistent: with it), stopped
// by t.Cleanup; it can be killed and started again on the same port. Tests that need it skip
// when redis-server is not installed (the Debian package redis-server;
// .ci/run installs it).
package redistest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is a running (or killed) redis-server.
type Server struct {
	// Addr is host:port; it stays the same across Restart.
	Addr string

	t       testing.TB
	bin     string
	port    int
	dir     string
	persist bool

	mu  sync.Mutex
	cmd *exec.Cmd
}

// Start starts a redis-server on a free port. Redis cannot listen on :0,
// so a port is found by binding :0 and closing it, and another is tried
// when redis-server then fails to bind it.
func Start(t testing.TB) *Server {
	t.Helper()
	return start(t, false)
}

// StartPersistent starts a redis-server that writes every change to its
// append-only file before answering (appendfsync always), so a Restart
// (even after Kill) finds what was written.
func StartPersistent(t testing.TB) *Server {
	t.Helper()
	return start(t, true)
}

func start(t testing.TB, persist bool) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set and redis-server is not installed: .ci/run installs it")
		}
		t.Skip("redis-server is not installed (Debian package redis-server)")
	}
	s := &Server{t: t, bin: bin, dir: t.TempDir(), persist: persist}
	var last error
	for range 5 {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		s.port = port
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if last = s.start(); last == nil {
			t.Cleanup(s.Kill)
			return s
		}
	}
	t.Fatalf("redistest: starting redis-server: %v", last)
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start runs redis-server and waits until it says it is ready (it prints
// "Ready to accept connections"), or exits.
func (s *Server) start() error {
	appendOnly := "no"
	if s.persist {
		appendOnly = "yes"
	}
	cmd := exec.Command(s.bin,
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", appendOnly,
		"--appendfsync", "always",
		"--dir", s.dir,
		"--daemonize", "no",
		"--loglevel", "notice",
	)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return err
	}
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		var lines []string
		signalled := false
		for sc.Scan() {
			line := sc.Text()
			if !signalled {
				lines = append(lines, line)
				if strings.Contains(line, "Ready to accept connections") {
					ready <- nil
					signalled = true
				}
			}
		}
		if !signalled {
			ready <- fmt.Errorf("redis-server exited before it was ready: %s", strings.Join(lines, "\n"))
		}
	}()
	select {
	case err := <-ready:
		if err != nil {
			_ = cmd.Wait()
			return err
		}
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return errors.New("redis-server not ready after 10s")
	}
	s.mu.Lock()
	s.cmd = cmd
	s.mu.Unlock()
	return nil
}

// Kill stops the server at once (SIGKILL), as a crash would. Killing a
// killed server does nothing.
func (s *Server) Kill() {
	s.mu.Lock()
	cmd := s.cmd
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
}

// Restart starts a killed server again on the same port (empty unless it
// is persistent), retrying for a moment while the port is still being released.
func (s *Server) Restart() {
	s.t.Helper()
	s.Kill()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		err := s.start()
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			s.t.Fatalf("redistest: restarting redis-server on %s: %v", s.Addr, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
