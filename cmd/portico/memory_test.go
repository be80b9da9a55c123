package main_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portico-gw/portico/server/servertest"
)

// worstCase are the most expensive requests a client can send within the
// default limits (4 MiB bodies, 64 levels, 10,000 JSON values), each as
// big as the limits allow.
func worstCase() map[string]func() (path, body string) {
	return map[string]func() (string, string){
		// A Struct of 9,900 members: the most decoded memory per body
		// byte that passes every limit.
		"struct": func() (string, string) {
			var b strings.Builder
			b.WriteString(`{"attrs":{`)
			for i := 0; i < 9_900; i++ {
				if i > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, `"k%06d":"%s"`, i, strings.Repeat("v", 20))
			}
			b.WriteString(`}}`)
			return "/v1/things", b.String()
		},
		// The same, with the rest of the 4 MiB spent on long strings.
		"struct-long": func() (string, string) {
			var b strings.Builder
			b.WriteString(`{"attrs":{`)
			for i := 0; i < 9_900; i++ {
				if i > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, `"k%06d":"%s"`, i, strings.Repeat("v", 400))
			}
			b.WriteString(`}}`)
			return "/v1/things", b.String()
		},
		// 1.4 million numbers: refused at the values limit.
		"array": func() (string, string) {
			return "/v1/things", `{"numbers":[` + strings.Repeat("1,", 1_400_000) + `1]}`
		},
		// A client stream of 4 MiB: messages of 1,000 map entries each,
		// decoded and forwarded one at a time.
		"stream": func() (string, string) {
			var line strings.Builder
			line.WriteString(`{"labels":{`)
			for i := 0; i < 1000; i++ {
				if i > 0 {
					line.WriteByte(',')
				}
				fmt.Fprintf(&line, `"l%04d":"%s"`, i, strings.Repeat("x", 30))
			}
			line.WriteString("}}\n")
			return "/v1/things:collect", strings.Repeat(line.String(), (4<<20)/line.Len())
		},
	}
}

// TestPeakRSSUnderWorstCaseLoad (hardening finding 2): a 4 MiB
// client-stream body was decoded whole before the backend was called
// (+200 MB RSS for one request), and a 4 MiB body with a huge array cost
// +116 MB. The gateway's peak RSS (VmHWM, the process's own high-water
// mark) under 16 concurrent worst-case requests of each kind must stay
// below 256 MB.
func TestPeakRSSUnderWorstCaseLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and sends 200 MB of requests")
	}
	bin := buildPortico(t)
	mirror := servertest.StartMirror(t, servertest.HostileFiles(t))
	dir := t.TempDir()
	cfg := `listen: {http: "127.0.0.1:0"}
descriptors: [` + strconv.Quote(servertest.HostileDir()) + `]
integrations:
  - name: mirror
    grpc: {target: "` + mirror.Addr + `"}
apis:
  - services: [hostile.v1.Hostile]
    integration: mirror
`
	path := filepath.Join(dir, "portico.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "-c", path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the start-up line: %v", err)
	}
	m := addrLine.FindStringSubmatch(line + " ")
	base := ""
	if m != nil {
		base = "http://" + m[1]
	} else if i := strings.Index(line, "http://"); i >= 0 {
		base = strings.Fields(line[i:])[0]
		base = strings.TrimSuffix(base, ",")
	}
	if base == "" {
		t.Fatalf("no REST address in %q", line)
	}
	before := vmHWM(t, cmd.Process.Pid)

	client := &http.Client{Timeout: 120 * time.Second}
	for name, mk := range worstCase() {
		p, body := mk()
		var wg sync.WaitGroup
		codes := make([]int, 16)
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := client.Post(base+p, "application/json", bytes.NewReader([]byte(body)))
				if err != nil {
					t.Errorf("%s: %v", name, err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				codes[i] = resp.StatusCode
			}()
		}
		wg.Wait()
		t.Logf("%s (%d KiB body) x16: statuses %v, peak RSS so far %d MB", name, len(body)>>10, codes, vmHWM(t, cmd.Process.Pid)>>20)
	}
	peak := vmHWM(t, cmd.Process.Pid)
	t.Logf("peak RSS: %d MB (%d MB at start)", peak>>20, before>>20)
	if peak >= 256<<20 {
		t.Errorf("peak RSS %d MB, want below 256 MB", peak>>20)
	}
}

// vmHWM reads a process's peak resident set size from /proc.
func vmHWM(t *testing.T, pid int) int64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}
