package hotpath

import (
	"net/http"
	"testing"
	"time"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
)

// BenchmarkGuardInterleaved measures what an integration's guard costs a
// REST GET when it does not trip: one gateway without a guard, one with
// max_in_flight and a circuit breaker (closed), side by side, the calls
// sent in slices that take turns so load from elsewhere on the machine
// lands on both alike. It reports the process's CPU per call for each
// and their ratio. b.N is the number of calls per gateway:
//
//	go test -run='^$' -bench=BenchmarkGuardInterleaved -benchtime=20000x -count=3 ./bench/hotpath/
func BenchmarkGuardInterleaved(b *testing.B) {
	start := func(guarded bool) func(n int) {
		env := servertest.Start(b, servertest.Options{Config: func(c *configv1.Config) {
			g := c.GetIntegrations()[0].GetGrpc()
			g.Timeout = nil
			if guarded {
				g.MaxInFlight = 4096
				g.CircuitBreaker = &configv1.CircuitBreaker{FailureRatio: 0.5}
			}
		}})
		tr := &http.Transport{MaxIdleConnsPerHost: 256}
		b.Cleanup(tr.CloseIdleConnections)
		client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		url := env.URL + getPath
		mustGet(b, client, url)
		call := func(n int) { callN(b, client, url, n) }
		call(100) // warm up
		return call
	}
	gateways := [2]func(int){start(false), start(true)}
	cpu := interleave(b, gateways)
	b.ReportMetric(cpu[0], "off-cpu-ns/call")
	b.ReportMetric(cpu[1], "guard-cpu-ns/call")
	b.ReportMetric(cpu[1]/cpu[0], "guard/off")
}
