package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
)

// The full chain's target (issue 19, target 3).
const (
	chainSection = "full chain"
	wantChainCPU = 1.25
	bareName     = "portico bare"
	chainName    = "portico full chain"
	validName    = "portico validation only"
	benchIssuer  = "https://issuer.bench.invalid"
)

// runChain compares the same GET through three Porticos in front of the
// same backend: bare (the descriptors' validation rules stripped, no
// policy, no telemetry), validation only (the REST section's gateway), and
// the full chain: a JWT provider (the same token on every call: a
// verified-token cache hit after the first), a local rate limit per
// principal that never trips, validation, metrics, and traces at
// sampling_ratio 0.01 exported to a receiver in this process.
func (b *bench) runChain(s *stack) error {
	receiver, stop, err := startTraceSink()
	if err != nil {
		return err
	}
	defer stop()
	token, jwks, err := benchJWT()
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(b.dir, "jwks.json"), jwks, 0o600); err != nil {
		return err
	}
	bare, err := startGateway(b.ctx, b.bins, b.dir, gatewayConfig{name: "bare", descriptors: true, stripRules: true}, s.backendAddr)
	if err != nil {
		return err
	}
	s.procs = append(s.procs, bare.proc)
	chain, err := startGateway(b.ctx, b.bins, b.dir, gatewayConfig{name: "chain", descriptors: true, admin: true,
		top: "auth:\n  providers:\n    - name: bench\n      jwt:\n        issuer: " + benchIssuer + "\n        audiences: [portico]\n        jwks_file: jwks.json\n" +
			"rate_limits:\n  policies:\n    - name: per-principal\n      key: principal\n      rate: 1000000/s\n" +
			"telemetry:\n  metrics:\n    prometheus: true\n  traces:\n    otlp_endpoint: " + receiver + "\n    sampling_ratio: 0.01\n",
		api: "    auth:\n      providers: [bench]\n    rate_limits: [per-principal]\n",
	}, s.backendAddr)
	if err != nil {
		return err
	}
	s.procs = append(s.procs, chain.proc)
	header := map[string]string{"Authorization": "Bearer " + token}
	for _, g := range []*gateway{bare, chain} {
		if err := waitReady(b.ctx, g.proc.name, startTimeout, func(ctx context.Context) error {
			_, err := getWith(ctx, g.url+b.o.path, header)
			return err
		}); err != nil {
			return err
		}
	}
	if _, err := get(b.ctx, chain.url+b.o.path); err == nil {
		return fmt.Errorf("the full chain's gateway answered a GET without a token: auth is not on")
	}

	fmt.Fprintf(b.w, "\n== full chain: GET %s with a JWT, %d connections, %d rounds of %v each, alternating ==\n", b.o.path, b.o.concurrency, b.o.rounds, b.o.duration)
	fmt.Fprintf(b.w, "%s %s (pid %d); %s %s (pid %d); trace receiver %s\n", bareName, bare.url, bare.proc.pid(), chainName, chain.url, chain.proc.pid(), receiver)
	var targets []*target
	for _, t := range []struct {
		name string
		p    *proc
		url  string
	}{{bareName, bare.proc, bare.url}, {validName, s.portico, s.porticoURL}, {chainName, chain.proc, chain.url}} {
		tg, err := newHTTPTarget(b.ctx, t.name, t.p, t.url+b.o.path, b.o.concurrency)
		if err != nil {
			return err
		}
		defer tg.close()
		tg.setHeaders(header)
		if t.p == chain.proc {
			tg.admin = chain.admin
		}
		targets = append(targets, tg)
	}
	rounds, err := b.compare(s, targets)
	if err != nil {
		return err
	}
	bareSum, validSum, chainSum := summarize(bareName, rounds), summarize(validName, rounds), summarize(chainName, rounds)
	printSummary(b.w, bareSum, validSum, chainSum)
	fmt.Fprintln(b.w, "full chain / bare:")
	c := cpuRatio(chainSum, bareSum)
	b.v.check(b.w, chainSection, "gateway CPU per request vs the bare call", c, c <= wantChainCPU, fmt.Sprintf("<= %.2fx", wantChainCPU))
	fmt.Fprintf(b.w, "  %-48s %8.2fx\n", "validation only: CPU per request vs bare", cpuRatio(validSum, bareSum))
	fmt.Fprintf(b.w, "  %-48s %8.2fx   (per-round %.2fx)\n", "full chain: throughput vs bare (median req/s)", ratio(chainSum.rate, bareSum.rate), pairedRatio(rounds, chainName, bareName))
	noiseWarning(b.w, bareSum, validSum, chainSum)
	return nil
}

// benchJWT makes an RSA key, a JWKS publishing it and a token it signed
// for the chain's provider, valid for a day.
func benchJWT() (token string, jwks []byte, err error) {
	raw, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", nil, err
	}
	key, err := jwk.Import(raw)
	if err != nil {
		return "", nil, err
	}
	if err := key.Set(jwk.KeyIDKey, "bench"); err != nil {
		return "", nil, err
	}
	if err := key.Set(jwk.AlgorithmKey, jwa.RS256()); err != nil {
		return "", nil, err
	}
	pub, err := key.PublicKey()
	if err != nil {
		return "", nil, err
	}
	set := jwk.NewSet()
	if err := set.AddKey(pub); err != nil {
		return "", nil, err
	}
	if jwks, err = json.Marshal(set); err != nil {
		return "", nil, err
	}
	now := time.Now()
	tok, err := jwt.NewBuilder().Issuer(benchIssuer).Audience([]string{"portico"}).Subject("bench").
		IssuedAt(now).Expiration(now.Add(24 * time.Hour)).Build()
	if err != nil {
		return "", nil, err
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.RS256(), key))
	if err != nil {
		return "", nil, err
	}
	return string(signed), jwks, nil
}

// traceSink is an OTLP/gRPC trace receiver that drops what it gets: the
// exporter's cost is measured, not a collector's.
type traceSink struct {
	collectortrace.UnimplementedTraceServiceServer
}

func (traceSink) Export(context.Context, *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

// startTraceSink serves a traceSink on a loopback port.
func startTraceSink() (addr string, stop func(), err error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(srv, traceSink{})
	go func() { _ = srv.Serve(lis) }()
	return lis.Addr().String(), srv.Stop, nil
}
