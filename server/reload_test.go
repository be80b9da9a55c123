package server_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/examples/bookstore"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	"github.com/portico-gw/portico/server"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// countingListener counts the connections a backend accepts.
type countingListener struct {
	net.Listener
	n atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

func startCountedBookstore(t *testing.T) (string, *countingListener) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &countingListener{Listener: lis}
	gs := bookstore.NewServer().Serve(cl)
	t.Cleanup(gs.Stop)
	return lis.Addr().String(), cl
}

// reloadEnv is a gateway served from a config file, rebuilt from it on
// Reload as `portico serve` does.
type reloadEnv struct {
	srv  *server.Server
	path string
	url  string
	conn *grpc.ClientConn
}

func (e *reloadEnv) write(t *testing.T, target, extra string) {
	t.Helper()
	yaml := `listen: {http: "127.0.0.1:0", grpc: "127.0.0.1:0", admin: "127.0.0.1:0"}
integrations:
  - name: bookstore
    grpc: {target: "` + target + `"` + extra + `}
apis:
  - services: [example.bookstore.v1.BookstoreService]
    integration: bookstore
`
	if strings.Contains(extra, "default_bindings") {
		yaml = strings.Replace(yaml, extra, "", 1) + "    default_bindings: true\n"
	}
	if strings.Contains(extra, "bookstor\"") {
		yaml = strings.Replace(yaml, "integration: bookstore", "integration: bookstor", 1)
	}
	if err := os.WriteFile(e.path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
}

func startReloadEnv(t *testing.T, target string) *reloadEnv {
	t.Helper()
	e := &reloadEnv{path: filepath.Join(t.TempDir(), "portico.yaml")}
	e.write(t, target, "")
	srv, done := serveConfigFile(t, e.path)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	})
	conn, err := grpc.NewClient(srv.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	e.srv, e.url, e.conn = srv, "http://"+srv.HTTPAddr, conn
	return e
}

// TestReloadUnderLoad (issue 6, point 5): steady REST and gRPC load runs
// through 20 reloads — a route added, a route removed, the integration's
// backend changed, its timeout changed, invalid configs — with zero failed
// calls on the routes present before and after; added routes are served
// right after the swap and removed ones are 404; an integration whose
// connection settings did not change keeps its connection.
func TestReloadUnderLoad(t *testing.T) {
	target1, backend1 := startCountedBookstore(t)
	target2, backend2 := startCountedBookstore(t)
	e := startReloadEnv(t, target1)

	var calls, failures atomic.Int64
	var firstFailure atomic.Value
	// Latencies of REST calls, before the reloads and during them.
	var latMu sync.Mutex
	var reloading bool
	var before, during []time.Duration
	record := func(d time.Duration) {
		latMu.Lock()
		if reloading {
			during = append(during, d)
		} else {
			before = append(before, d)
		}
		latMu.Unlock()
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	fail := func(err error) {
		failures.Add(1)
		firstFailure.CompareAndSwap(nil, err.Error())
	}
	client := &http.Client{Timeout: 10 * time.Second}
	for range 2 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				start := time.Now()
				resp, err := client.Get(e.url + "/v1/shelves/1")
				record(time.Since(start))
				calls.Add(1)
				if err != nil {
					fail(err)
					continue
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					fail(fmt.Errorf("REST: status %d", resp.StatusCode))
				}
			}
		}()
		go func() {
			defer wg.Done()
			c := bookstorev1.NewBookstoreServiceClient(e.conn)
			for {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				_, err := c.GetShelf(ctx, &bookstorev1.GetShelfRequest{Shelf: 1})
				cancel()
				calls.Add(1)
				if err != nil {
					fail(fmt.Errorf("gRPC: %v", err))
				}
			}
		}()
	}

	reindex := func() int {
		resp, err := client.Post(e.url+"/example.bookstore.v1.BookstoreService/Reindex", "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	steps := []struct {
		name          string
		target, extra string
		wantErr       bool
		reindex       int
	}{
		{"add a route", target1, `, default_bindings`, false, 200},
		{"remove it", target1, ``, false, 404},
		{"change the timeout", target1, `, timeout: "5s"`, false, 404},
		{"invalid: unknown integration", target1, `, bookstor"`, true, 404},
		{"switch the backend", target2, ``, false, 404},
		{"back, with the route", target1, `, default_bindings`, false, 200},
		{"invalid: bad YAML", target1, "\n  - [", true, 200},
		{"remove it again", target1, ``, false, 404},
		{"change the timeout again", target1, `, timeout: "7s"`, false, 404},
		{"add it again", target1, `, default_bindings`, false, 200},
	}
	// A baseline of calls without reloads, then the reloads.
	waitFor(t, func() bool { return calls.Load() >= 400 })
	latMu.Lock()
	reloading = true
	latMu.Unlock()
	var connsBefore int64
	for i := 0; i < 20; i++ {
		st := steps[i%len(steps)]
		if st.name == "change the timeout" || st.name == "change the timeout again" {
			connsBefore = backend1.n.Load()
		}
		e.write(t, st.target, st.extra)
		err := e.srv.Reload(context.Background())
		if (err != nil) != st.wantErr {
			t.Fatalf("reload %d (%s): got %v, want error %v", i, st.name, err, st.wantErr)
		}
		if got := reindex(); got != st.reindex {
			t.Errorf("reload %d (%s): Reindex route: got %d, want %d", i, st.name, got, st.reindex)
		}
		if (st.name == "change the timeout" || st.name == "change the timeout again") && backend1.n.Load() != connsBefore {
			t.Errorf("reload %d (%s): the backend got %d new connections, want none (settings unchanged)", i, st.name, backend1.n.Load()-connsBefore)
		}
		// Load runs on each new snapshot before the next reload.
		n := calls.Load()
		waitFor(t, func() bool { return calls.Load() >= n+40 })
	}
	close(stop)
	wg.Wait()
	if n := failures.Load(); n != 0 {
		t.Errorf("%d of %d calls failed during the reloads; first: %v", n, calls.Load(), firstFailure.Load())
	}
	if calls.Load() < 100 {
		t.Errorf("only %d calls ran during the reloads", calls.Load())
	}
	if backend2.n.Load() == 0 {
		t.Error("the second backend was never connected to")
	}
	last := e.srv.LastReload()
	if last.Count != 20 || last.Failed != 4 {
		t.Errorf("reload status: %d reloads, %d failed; want 20 and 4", last.Count, last.Failed)
	}
	t.Logf("%d calls through 20 reloads, %d failed", calls.Load(), failures.Load())
	t.Logf("REST latency without reloads: p50 %v, p99 %v (%d calls); during reloads: p50 %v, p99 %v (%d calls)",
		quantile(before, 0.5), quantile(before, 0.99), len(before), quantile(during, 0.5), quantile(during, 0.99), len(during))
}

// TestReloadOnFileChange: a change to the config file is picked up by the
// watcher and reloaded (debounced); a bad change leaves the old snapshot
// serving and is reported on /readyz.
func TestReloadOnFileChange(t *testing.T) {
	target, _ := startCountedBookstore(t)
	e := startReloadEnv(t, target)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := e.srv.WatchInputs(ctx, 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	hash := e.srv.Snapshot().Hash()
	e.write(t, target, `, default_bindings`)
	waitFor(t, func() bool { return e.srv.LastReload().Count >= 1 && e.srv.Snapshot().Hash() != hash })
	if resp, _ := post(t, e.url+"/example.bookstore.v1.BookstoreService/Reindex", `{}`); resp.StatusCode != 200 {
		t.Errorf("route added by the file change: got %d", resp.StatusCode)
	}
	good := e.srv.Snapshot().Hash()
	before := e.srv.LastReload().Count
	e.write(t, target, `, bookstor"`)
	waitFor(t, func() bool { return e.srv.LastReload().Count > before })
	if e.srv.Snapshot().Hash() != good || e.srv.LastReload().Err == nil {
		t.Errorf("a bad file: got hash %s and error %v, want the old snapshot kept and the error reported", e.srv.Snapshot().Hash(), e.srv.LastReload().Err)
	}
	_, body := get(t, "http://"+e.srv.AdminAddr+"/readyz")
	if !strings.Contains(string(body), `"ok":false`) || !strings.Contains(string(body), good) {
		t.Errorf("readyz: got %s, want the failed reload and the running config's hash", body)
	}
	// A listen address change is reported, not applied.
	cancel() // no more watching: POST /reload does it
	e.write(t, target, ``)
	yaml, _ := os.ReadFile(e.path)
	_ = os.WriteFile(e.path, []byte(strings.Replace(string(yaml), `http: "127.0.0.1:0"`, `http: "127.0.0.1:1"`, 1)), 0o644)
	resp, out := post(t, "http://"+e.srv.AdminAddr+"/reload", ``)
	if resp.StatusCode != 200 || !strings.Contains(string(out), `"restart_needed":["listen"]`) {
		t.Errorf("POST /reload with a new listen address: got %d %s, want it reported as needing a restart", resp.StatusCode, out)
	}
}

// quantile returns the q-quantile of ds.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1))]
}
