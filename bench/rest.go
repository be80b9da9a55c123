package main

import "fmt"

// The REST targets (issue 19, target 2).
const (
	restSection = "REST door"
	// Portico's GET against grpc-gateway's generated gateway.
	wantGetThroughput = 1.3
	wantGetCPU        = 0.7
	// Portico's GET against the floor.
	wantFloorCPU = 1.3
	// The POST's targets are the earlier issue's (body "*").
	wantPostThroughput = 1.1
	wantPostCPU        = 0.8
)

// runREST compares the REST door with grpc-gateway's generated gateway and
// the floor on a GET, then with grpc-gateway on a POST.
func (b *bench) runREST(s *stack) error {
	o := b.o
	pb, err := get(b.ctx, s.porticoURL+o.path)
	if err != nil {
		return err
	}
	rb, err := get(b.ctx, s.referenceURL+o.path)
	if err != nil {
		return err
	}
	if !sameJSON(pb, rb) {
		fmt.Fprintf(b.w, "warning: the gateways answer GET %s differently:\n  portico:      %s\n  grpc-gateway: %s\n", o.path, pb, rb)
	}

	fmt.Fprintf(b.w, "\n== REST: GET %s, %d connections, %d rounds of %v each, alternating ==\n", o.path, o.concurrency, o.rounds, o.duration)
	fmt.Fprintln(b.w, "(the floor answers with the backend's protobuf bytes: net/http and grpc-go alone, no routing, JSON or policy)")
	ref, err := newHTTPTarget(b.ctx, referenceName, s.reference, s.referenceURL+o.path, o.concurrency)
	if err != nil {
		return err
	}
	defer ref.close()
	por, err := newHTTPTarget(b.ctx, porticoName, s.portico, s.porticoURL+o.path, o.concurrency)
	if err != nil {
		return err
	}
	defer por.close()
	por.admin = s.porticoAdmin
	flo, err := newHTTPTarget(b.ctx, floorName, s.floor, s.floorURL+o.path, o.concurrency)
	if err != nil {
		return err
	}
	defer flo.close()
	targets := []*target{ref, por, flo}
	var variant *target
	if o.variant != "" { // the same GET on a Portico with the -variant's flags
		g, name, err := b.startVariant(s, porticoName)
		if err != nil {
			return err
		}
		if variant, err = newHTTPTarget(b.ctx, name, g.proc, g.url+o.path, o.concurrency); err != nil {
			return err
		}
		defer variant.close()
		variant.admin = g.admin
		targets = append(targets, variant)
	}
	rounds, err := b.compare(s, targets)
	if err != nil {
		return err
	}
	refSum, porSum, floSum := summarize(referenceName, rounds), summarize(porticoName, rounds), summarize(floorName, rounds)
	if variant != nil {
		varSum := summarize(variant.name, rounds)
		printSummary(b.w, refSum, porSum, floSum, varSum)
		fmt.Fprintf(b.w, "portico / %s:\n  %-48s %8.3fx\n  %-48s %8.3fx   (the variant vs the floor)\n", variant.name,
			"GET: gateway CPU per request", cpuRatio(porSum, varSum), "GET: gateway CPU per request", cpuRatio(varSum, floSum))
	} else {
		printSummary(b.w, refSum, porSum, floSum)
	}
	b.vsReference("GET", rounds, refSum, porSum, wantGetThroughput, wantGetCPU)
	fmt.Fprintln(b.w, "portico / floor:")
	floor := cpuRatio(porSum, floSum)
	b.v.check(b.w, restSection, "GET: gateway CPU per request vs the floor", floor, floor <= wantFloorCPU, fmt.Sprintf("<= %.2fx", wantFloorCPU))
	fmt.Fprintf(b.w, "  %-48s %8.2fx\n", "GET: throughput vs the floor (median req/s)", ratio(porSum.rate, floSum.rate))

	if o.postPath == "" {
		return nil
	}
	fmt.Fprintf(b.w, "\n== REST: POST %s %s, %d connections, %d rounds of %v each, alternating ==\n", o.postPath, o.postBody, o.concurrency, o.rounds, o.duration)
	refPost, err := newHTTPPostTarget(b.ctx, referenceName, s.reference, s.referenceURL+o.postPath, o.postBody, o.concurrency)
	if err != nil {
		return err
	}
	defer refPost.close()
	porPost, err := newHTTPPostTarget(b.ctx, porticoName, s.portico, s.porticoURL+o.postPath, o.postBody, o.concurrency)
	if err != nil {
		return err
	}
	defer porPost.close()
	porPost.admin = s.porticoAdmin
	rounds, err = b.compare(s, []*target{refPost, porPost})
	if err != nil {
		return err
	}
	refSum, porSum = summarize(referenceName, rounds), summarize(porticoName, rounds)
	printSummary(b.w, refSum, porSum)
	b.vsReference("POST", rounds, refSum, porSum, wantPostThroughput, wantPostCPU)
	return nil
}

// vsReference prints Portico's ratios to grpc-gateway for one call.
func (b *bench) vsReference(call string, rounds []*roundResult, refSum, porSum *summary, thr, cpu float64) {
	fmt.Fprintln(b.w, "portico / grpc-gateway:")
	r := ratio(porSum.rate, refSum.rate)
	paired := pairedRatio(rounds, porticoName, referenceName)
	c := cpuRatio(porSum, refSum)
	goal := fmt.Sprintf(">= %.2fx", thr)
	b.v.check(b.w, restSection, call+": throughput vs grpc-gateway (median req/s)", r, r >= thr, goal)
	b.v.check(b.w, restSection, call+": throughput vs grpc-gateway (per-round)", paired, paired >= thr, goal)
	estimate(b.w, porSum, refSum)
	b.v.check(b.w, restSection, call+": gateway CPU per request vs grpc-gateway", c, c <= cpu, fmt.Sprintf("<= %.2fx", cpu))
	noiseWarning(b.w, refSum, porSum)
}
