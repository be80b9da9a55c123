package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"time"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
)

// startTimeout bounds how long a process may take to print its address,
// and then to answer.
const startTimeout = 20 * time.Second

// What each process prints once it listens (see
// examples/bookstore/cmd/bookstore, cmd/portico/serve.go and, for
// bench/reference, internal/lifecycle).
var (
	backendReady   = regexp.MustCompile(`^bookstore listening on (\S+)$`)
	porticoReady   = regexp.MustCompile(`^portico: REST on http://([^,\s]+), gRPC on ([^,\s]+)(?:, admin on http://([^,\s]+))? \((\d+) methods\)`)
	referenceReady = regexp.MustCompile(`^listening on (\S+)$`)
)

// stack is the running processes: the backend and the two gateways in
// front of it.
type stack struct {
	procs procs

	backend, portico, reference, floor *proc

	backendAddr     string // gRPC
	porticoURL      string // REST door, http://host:port
	porticoGRPCAddr string // gRPC door
	porticoMethods  int
	porticoAdmin    string // admin listener, for profiles
	referenceURL    string
	floorURL        string
}

// startStack starts the backend, then Portico and the reference in front
// of it, and waits until each answers a call. On error, whatever was
// started is stopped again.
func startStack(ctx context.Context, bins binaries, dir string, withDescriptors bool, path, book string) (s *stack, err error) {
	s = &stack{}
	defer func() {
		if err != nil {
			s.procs.stopAll()
		}
	}()

	p, m, err := startProc(ctx, "backend", bins.backend, []string{"-listen", "127.0.0.1:0"}, backendReady, startTimeout)
	if err != nil {
		return nil, err
	}
	s.procs = append(s.procs, p)
	s.backend, s.backendAddr = p, m[1]

	g, err := startGateway(ctx, bins, dir, gatewayConfig{name: "portico", descriptors: withDescriptors, admin: true}, s.backendAddr)
	if err != nil {
		return nil, err
	}
	s.procs = append(s.procs, g.proc)
	s.portico, s.porticoURL, s.porticoGRPCAddr, s.porticoMethods = g.proc, g.url, g.grpcAddr, g.methods
	s.porticoAdmin = g.admin

	p, m, err = startProc(ctx, "reference", bins.reference, []string{"-backend", s.backendAddr, "-listen", "127.0.0.1:0"}, referenceReady, startTimeout)
	if err != nil {
		return nil, err
	}
	s.procs = append(s.procs, p)
	s.reference, s.referenceURL = p, "http://"+m[1]

	req, err := proto.Marshal(&bookstorev1.GetBookRequest{Name: book})
	if err != nil {
		return nil, err
	}
	p, m, err = startProc(ctx, "floor", bins.floor, []string{"-backend", s.backendAddr, "-method", bookstorev1.BookstoreService_GetBook_FullMethodName,
		"-request", hex.EncodeToString(req), "-listen", "127.0.0.1:0"}, referenceReady, startTimeout)
	if err != nil {
		return nil, err
	}
	s.procs = append(s.procs, p)
	s.floor, s.floorURL = p, "http://"+m[1]

	if err := waitGRPC(ctx, "backend", s.backendAddr, book); err != nil {
		return nil, err
	}
	if err := waitGRPC(ctx, "portico gRPC door", s.porticoGRPCAddr, book); err != nil {
		return nil, err
	}
	for _, g := range []struct{ name, url string }{{"portico", s.porticoURL}, {"reference", s.referenceURL}, {"floor", s.floorURL}} {
		if err := waitReady(ctx, g.name, startTimeout, func(ctx context.Context) error {
			_, err := get(ctx, g.url+path)
			return err
		}); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// gateway is a Portico process the benchmark started.
type gateway struct {
	proc     *proc
	url      string // REST door, http://host:port
	grpcAddr string // gRPC door
	admin    string // admin listener (host:port), "" without one
	methods  int
}

// startGateway writes cfg and starts Portico with it: bench/gateway, or
// cmd/portico when bins.gateway is empty (-generated).
func startGateway(ctx context.Context, bins binaries, dir string, cfg gatewayConfig, backend string) (*gateway, error) {
	path, err := cfg.write(dir, backend)
	if err != nil {
		return nil, err
	}
	bin, args := bins.portico, []string{"serve", "-c", path}
	if bins.gateway != "" {
		bin, args = bins.gateway, append([]string{"-c", path}, cfg.flags...)
	} else if len(cfg.flags) > 0 {
		return nil, fmt.Errorf("%s: flags %q need bench/gateway, not cmd/portico (-generated)", cfg.name, cfg.flags)
	}
	p, m, err := startProc(ctx, cfg.name, bin, args, porticoReady, startTimeout)
	if err != nil {
		return nil, err
	}
	g := &gateway{proc: p, url: "http://" + m[1], grpcAddr: m[2], admin: m[3]}
	g.methods, _ = strconv.Atoi(m[4])
	return g, nil
}

// checkAlive returns an error naming any process that has exited.
func (s *stack) checkAlive() error {
	for _, p := range s.procs {
		if !p.alive() {
			return fmt.Errorf("%s exited (%v):\n%s", p.name, p.err, p.output())
		}
	}
	return nil
}

// get GETs url once and returns the body of a 200.
func get(ctx context.Context, url string) ([]byte, error) {
	return getWith(ctx, url, nil)
}

// getWith is get with headers.
func getWith(ctx context.Context, url string, header map[string]string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", url, resp.Status, body)
	}
	return body, nil
}

// waitGRPC waits until GetBook(book) at addr succeeds.
func waitGRPC(ctx context.Context, name, addr, book string) error {
	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	client := bookstorev1.NewBookstoreServiceClient(conn)
	return waitReady(ctx, name, startTimeout, func(ctx context.Context) error {
		_, err := client.GetBook(ctx, &bookstorev1.GetBookRequest{Name: book})
		return err
	})
}
