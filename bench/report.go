package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// table prints rows right-aligned in fixed-width columns, each row as soon
// as it is known (a round's row appears when the round ends).
type table struct {
	w      io.Writer
	widths []int
}

// newTable prints the header; the first column is firstWidth wide, each
// other as wide as its header and at least 8.
func newTable(w io.Writer, firstWidth int, header ...string) *table {
	t := &table{w: w}
	for i, h := range header {
		width := max(8, utf8.RuneCountInString(h))
		if i == 0 {
			width = max(firstWidth, width)
		}
		t.widths = append(t.widths, width)
	}
	t.row(header...)
	return t
}

// row prints one row; the first column is left-aligned, others right.
func (t *table) row(cells ...string) {
	var b strings.Builder
	for i, c := range cells {
		pad := strings.Repeat(" ", max(0, t.widths[i]-utf8.RuneCountInString(c)))
		if i == 0 {
			b.WriteString(c + pad)
		} else {
			b.WriteString("  " + pad + c)
		}
	}
	fmt.Fprintln(t.w, b.String())
}

// roundHeader is the header of the per-round table.
var roundHeader = []string{"round target", "calls", "req/s", "p50", "p99", "max", "gw CPU/req", "backend CPU/req", "client CPU/req", "other procs", "dials", "errors"}

// roundRow renders one round of the per-round table.
func roundRow(r *roundResult) []string {
	round := fmt.Sprint(r.round)
	if r.round == 0 {
		round = "warm-up"
	}
	gw := "-"
	if r.target != directName {
		gw = fmtMicros(r.perCall(r.gatewayCPU))
	}
	return []string{
		round + " " + r.target, fmt.Sprint(r.ok), fmt.Sprintf("%.0f", r.rate()),
		fmtLatency(r.hist.quantile(0.50)), fmtLatency(r.hist.quantile(0.99)), fmtLatency(r.hist.max),
		gw, fmtMicros(r.perCall(r.backendCPU)), fmtMicros(r.perCall(r.clientCPU)),
		fmt.Sprintf("%.0f%%", 100*r.othersLoad), fmt.Sprint(r.dials), fmt.Sprint(r.errs),
	}
}

// summary aggregates one target's measured rounds (not the warm-up).
type summary struct {
	target     string
	rounds     int
	rate       float64    // median over rounds
	hist       *histogram // every round's latencies
	gatewayCPU time.Duration
	backendCPU time.Duration
	clientCPU  time.Duration
	ok, errs   int64
	othersLoad float64 // mean over rounds
}

// summarize aggregates rounds: the median rate (robust to one disturbed
// round), latency quantiles over all calls, CPU per call over all calls.
func summarize(name string, rounds []*roundResult) *summary {
	s := &summary{target: name, hist: new(histogram)}
	var rates []float64
	for _, r := range rounds {
		if r.target != name || r.round == 0 {
			continue
		}
		s.rounds++
		rates = append(rates, r.rate())
		s.hist.merge(r.hist)
		s.gatewayCPU += r.gatewayCPU
		s.backendCPU += r.backendCPU
		s.clientCPU += r.clientCPU
		s.ok += r.ok
		s.errs += r.errs
		s.othersLoad += r.othersLoad
	}
	s.rate = median(rates)
	if s.rounds > 0 {
		s.othersLoad /= float64(s.rounds)
	}
	return s
}

// perCall returns d divided over the successful calls.
func (s *summary) perCall(d time.Duration) time.Duration {
	if s.ok == 0 {
		return 0
	}
	return d / time.Duration(s.ok)
}

// allCPU returns the CPU time per call of the gateway, the backend and the
// load generator together. When they saturate the machine's CPUs (as on 2
// cores), throughput is inversely proportional to it, so the ratio of two
// targets' allCPU predicts their throughput ratio without the noise of
// other processes.
func (s *summary) allCPU() time.Duration {
	return s.perCall(s.gatewayCPU + s.backendCPU + s.clientCPU)
}

// summaryHeader is the header of the summary table.
var summaryHeader = []string{"target", "rounds", "req/s (median)", "p50", "p99", "gw CPU/req", "backend CPU/req", "client CPU/req", "all CPU/req", "errors"}

// summaryRow renders one target's summary.
func summaryRow(s *summary) []string {
	gw := "-"
	if s.target != directName {
		gw = fmtMicros(s.perCall(s.gatewayCPU))
	}
	return []string{
		s.target, fmt.Sprint(s.rounds), fmt.Sprintf("%.0f", s.rate),
		fmtLatency(s.hist.quantile(0.50)), fmtLatency(s.hist.quantile(0.99)),
		gw, fmtMicros(s.perCall(s.backendCPU)), fmtMicros(s.perCall(s.clientCPU)), fmtMicros(s.allCPU()), fmt.Sprint(s.errs),
	}
}

// estimate prints the throughput ratio a/b predicted from all CPU per
// call: what a saturated machine with no other load would show.
func estimate(w io.Writer, a, b *summary) {
	fmt.Fprintf(w, "  %-48s %8.2fx   (all CPU/req %s / %s: the ratio a saturated, otherwise idle machine gives)\n",
		"throughput estimated from CPU", ratio(float64(b.allCPU()), float64(a.allCPU())), b.target, a.target)
}

// pairedRatio returns the median over rounds of a's rate in round i
// divided by b's rate in round i. Rounds alternate, so each pair ran under
// nearly the same conditions: this ratio shrugs off slow changes in the
// machine's load better than the ratio of the medians.
func pairedRatio(rounds []*roundResult, a, b string) float64 {
	rates := map[string]map[int]float64{a: {}, b: {}}
	for _, r := range rounds {
		if m, ok := rates[r.target]; ok && r.round > 0 {
			m[r.round] = r.rate()
		}
	}
	var ratios []float64
	for round, ra := range rates[a] {
		if rb, ok := rates[b][round]; ok && rb > 0 {
			ratios = append(ratios, ra/rb)
		}
	}
	return median(ratios)
}

// noiseWarning prints a warning when other processes used more than 10 %
// of the machine during the measured rounds.
func noiseWarning(w io.Writer, sums ...*summary) {
	var load float64
	for _, s := range sums {
		load += s.othersLoad
	}
	load /= float64(len(sums))
	if load > 0.10 {
		fmt.Fprintf(w, "  WARNING: other processes used %.0f%% of the machine's CPU during these rounds; the throughput\n"+
			"  ratios are unreliable (CPU per request is not: it is each process's own CPU time)\n", 100*load)
	}
}

// ratio returns a/b, or 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// median returns the median of xs (the mean of the middle two for an even
// count), or 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// fmtLatency renders a latency in µs or ms with three significant digits.
func fmtLatency(d time.Duration) string {
	us := float64(d) / float64(time.Microsecond)
	switch {
	case us < 1000:
		return fmt.Sprintf("%.0fµs", us)
	case us < 10000:
		return fmt.Sprintf("%.2fms", us/1000)
	default:
		return fmt.Sprintf("%.1fms", us/1000)
	}
}

// fmtMicros renders a CPU time per call in µs.
func fmtMicros(d time.Duration) string {
	return fmt.Sprintf("%.1fµs", float64(d)/float64(time.Microsecond))
}
