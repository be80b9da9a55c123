package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
)

// chromiumPath finds the headless browser the explorer test drives. The
// test is skipped without one only outside CI: under CI (CI set) it must
// run, and .ci/run installs the browser.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "" {
		t.Skip("chromium is not installed (apt-get install chromium); under CI this test runs")
	}
	t.Fatal("CI is set and chromium is not installed: .ci/run installs it")
	return ""
}

// browser starts a headless Chromium for the test, with the flags that
// work in this environment and a fresh profile, and collects what the page
// reports as errors: console.error calls, uncaught exceptions, and the
// browser log's errors (failed loads, Content-Security-Policy violations).
func startBrowser(t *testing.T) (ctx context.Context, problems func() []string) {
	t.Helper()
	path := chromiumPath(t)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	t.Cleanup(cancelAlloc)
	var mu sync.Mutex
	var seen []string
	ctx, cancel := chromedp.NewContext(alloc, chromedp.WithListener(func(ev any) {
		var p string
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range e.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				p = fmt.Sprintf("console.%s: %v", e.Type, args)
			}
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			p = fmt.Sprintf("uncaught exception: %s at %s:%d", d.Text, d.URL, d.LineNumber)
			if d.Exception != nil {
				p += ": " + d.Exception.Description
			}
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError {
				p = fmt.Sprintf("browser log (%s): %s %s", e.Entry.Source, e.Entry.Text, e.Entry.URL)
			}
		}
		if p != "" {
			mu.Lock()
			seen = append(seen, p)
			mu.Unlock()
		}
	}))
	t.Cleanup(cancel)
	// The first Run starts the browser on ctx itself (no timeout there: it
	// would stop the browser); each step below gets its own.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
}

// TestExplorerInChromium loads the explorer of a running gateway in a real
// headless Chromium: the page loads with no console error, lists every
// operation of the live OpenAPI document, and "try it" on GetShelf returns
// what the backend answers.
func TestExplorerInChromium(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
		c.Docs = &configv1.Docs{OpenapiPath: "/openapi.json", ExplorerPath: "/docs"}
		c.Apis[0].DefaultBindings = true
	}})
	ctx, problems := startBrowser(t)
	step := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, steps...); err != nil {
			t.Fatalf("%s: %v (page problems: %v)", what, err, problems())
		}
	}

	step("load the explorer",
		chromedp.Navigate(env.URL+"/docs"),
		chromedp.WaitVisible(chromedp.CSS(`li.op[data-op="example.bookstore.v1.BookstoreService.GetShelf"]`)),
	)
	listed, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('li.op')].map(li => li.dataset.op)`))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(listed)
	if want := operationIDs(t, env.URL+"/openapi.json"); !equalStrings(listed, want) {
		t.Errorf("the page lists %d operations %v, want the document's %d: %v", len(listed), listed, len(want), want)
	}

	step("try GetShelf",
		chromedp.Click(chromedp.CSS(`li.op[data-op="example.bookstore.v1.BookstoreService.GetShelf"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.param-input[data-name="shelf"]`)),
		chromedp.SetValue(chromedp.CSS(`.param-input[data-name="shelf"]`), "1"),
		chromedp.Click(chromedp.ID("send")),
		chromedp.Poll[chromedp.Void](`document.getElementById('response-status').textContent.startsWith('200')`, chromedp.WithPollingTimeout(20*time.Second)),
	)
	line, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("request-line")))
	if err != nil {
		t.Fatal(err)
	}
	if line != "GET /v1/shelves/1" {
		t.Errorf("the page sent %q, want %q", line, "GET /v1/shelves/1")
	}
	shown, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("response-body")))
	if err != nil {
		t.Fatal(err)
	}
	code, direct := restGet(t, env.URL+"/v1/shelves/1")
	if code != 200 {
		t.Fatalf("GET /v1/shelves/1: got %d, want 200", code)
	}
	var got, want any
	if err := json.Unmarshal([]byte(shown), &got); err != nil {
		t.Fatalf("the page shows %q: not JSON: %v", shown, err)
	}
	if err := json.Unmarshal(direct, &want); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the page shows %v, want the backend's answer %v", got, want)
	}
	if p := problems(); len(p) > 0 {
		t.Errorf("the page reported errors: %v", p)
	}
}

// operationIDs reads the operation ids of the document at url, sorted.
func operationIDs(t *testing.T, url string) []string {
	t.Helper()
	code, body := restGet(t, url)
	if code != 200 {
		t.Fatalf("GET %s: got %d, want 200", url, code)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, item := range doc.Paths {
		for _, op := range item {
			ids = append(ids, op.OperationID)
		}
	}
	sort.Strings(ids)
	return ids
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
