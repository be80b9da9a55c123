package hotpath

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
	"google.golang.org/protobuf/types/known/durationpb"
)

// BenchmarkCacheInterleaved measures what a REST GET costs the gateway
// when the response cache answers it, against the same GET uncached: two
// gateways in front of one bookstore that runs in a process of its own
// (so the backend's CPU is not counted: only the gateway's), the calls
// sent through each REST door's handler in slices that take turns, so
// load from elsewhere lands on both alike. It reports the process's CPU
// per call for each and their ratio. b.N is the number of calls per
// gateway:
//
//	go test -run='^$' -bench=BenchmarkCacheInterleaved -benchtime=20000x -count=3 ./bench/hotpath/
func BenchmarkCacheInterleaved(b *testing.B) {
	addr := startBookstoreProcess(b)
	start := func(cached bool) func(n int) {
		env := servertest.StartGateway(b, addr, servertest.Options{Config: func(c *configv1.Config) {
			c.GetIntegrations()[0].GetGrpc().Timeout = nil
			if cached {
				c.Apis[0].Methods = []*configv1.MethodPolicy{{
					Selector: "example.bookstore.v1.BookstoreService.GetBook",
					Cache:    &configv1.MethodCache{Ttl: durationpb.New(time.Hour)},
				}}
			}
		}})
		h := env.Server.Snapshot().REST
		serve := func() int {
			rec := httptest.NewRecorder()
			h().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, getPath, nil))
			return rec.Code
		}
		if code := serve(); code != http.StatusOK {
			b.Fatalf("GET %s: got %d, want 200", getPath, code)
		}
		rec := httptest.NewRecorder()
		h().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, getPath, nil))
		if got, want := rec.Header().Get("X-Cache"), map[bool]string{true: "hit", false: ""}[cached]; got != want {
			b.Fatalf("X-Cache %q, want %q", got, want)
		}
		return func(n int) {
			parallelN(n, func() error {
				if code := serve(); code != http.StatusOK {
					b.Errorf("GET %s: got %d, want 200", getPath, code)
				}
				return nil
			}, b)
		}
	}
	gateways := [2]func(int){start(false), start(true)}
	for _, g := range gateways {
		g(200) // warm up
	}
	cpu := interleave(b, gateways)
	b.ReportMetric(cpu[0], "uncached-cpu-ns/call")
	b.ReportMetric(cpu[1], "hit-cpu-ns/call")
	b.ReportMetric(cpu[1]/cpu[0], "hit/uncached")
}

// startBookstoreProcess builds the example bookstore's command and runs
// it on a free loopback port, stopped by b.Cleanup; it returns the
// address it listens on.
func startBookstoreProcess(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "bookstore")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/portico-gw/portico/examples/bookstore/cmd/bookstore").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-listen", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "bookstore listening on ")
	if err != nil || !ok {
		b.Fatalf("bookstore: read %q, %v; want its address", line, err)
	}
	return addr
}
