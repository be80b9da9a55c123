package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"syscall"
	"testing"

	"github.com/portico-gw/portico/server/servertest"
)

// BenchmarkRESTAnswer16KiB: a REST call whose JSON answer is about 16 KiB
// (labels: a Thing with 300 labels of mixed text and hex, costly to
// decode; text: one 16 KiB string of words, cheap to decode, so
// compression weighs more), answered as it is and with gzip or zstd; client, gateway and backend in one process (the
// issue's target: gzip at most 1.5x the uncompressed cost per call).
//
//	go test -run '^$' -bench BenchmarkRESTAnswer16KiB -benchtime 2000x ./server/
func BenchmarkRESTAnswer16KiB(b *testing.B) {
	env := servertest.StartHostile(b, servertest.Options{})
	rng := rand.New(rand.NewPCG(1, 2))
	labels := map[string]string{}
	for i := range 300 {
		labels[fmt.Sprintf("label-%03d", i)] = fmt.Sprintf("value %d of the shelf %x", rng.IntN(1000), rng.Uint64())
	}
	words := []string{"portico", "shelf", "book", "gateway", "answer", "compressed", "the", "of", "a", "stream"}
	var text bytes.Buffer
	for text.Len() < 16<<10 {
		text.WriteString(words[rng.IntN(len(words))] + " ")
	}
	bodies := map[string][]byte{}
	bodies["labels"], _ = json.Marshal(map[string]any{"name": "bench", "labels": labels})
	bodies["text"], _ = json.Marshal(map[string]any{"name": "bench", "text": text.String()})
	tr := &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 1}
	b.Cleanup(tr.CloseIdleConnections)
	for _, shape := range []string{"labels", "text"} {
		body := bodies[shape]
		for _, enc := range []string{"identity", "gzip", "zstd"} {
			b.Run(shape+"/"+enc, func(b *testing.B) {
				var size int64
				cpu0 := processCPU()
				for b.Loop() {
					req, _ := http.NewRequest("POST", env.URL+"/v1/things", bytes.NewReader(body))
					req.Header.Set("Accept-Encoding", enc)
					resp, err := tr.RoundTrip(req)
					if err != nil {
						b.Fatal(err)
					}
					n, _ := io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK || (enc != "identity") != (resp.Header.Get("Content-Encoding") == enc) {
						b.Fatalf("got %d with Content-Encoding %q", resp.StatusCode, resp.Header.Get("Content-Encoding"))
					}
					size = n
				}
				b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
				b.ReportMetric(float64(size), "wire-bytes")
			})
		}
	}
}

// processCPU is the CPU time (user and system) the process has used, in
// nanoseconds: client, gateway and backend together.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
