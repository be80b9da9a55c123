package httpbackend

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
)

// checker asks each URL's host for the health check's path every
// interval, all URLs at once, and marks a URL down when it does not
// answer 2xx within the timeout, up again when it does (one check
// decides, either way). The first round runs as it starts; rounds never
// overlap.
type checker struct {
	client   *http.Client
	targets  []string // scheme://host/path per URL
	down     []atomic.Bool
	interval time.Duration
	timeout  time.Duration

	mu     sync.Mutex // one round at a time
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

// healthSettings reads and checks health_check: path required, interval
// 5s and timeout 1s by default, the timeout at most the interval.
func healthSettings(hc *configv1.HttpHealthCheck) (interval, timeout time.Duration, err error) {
	if hc.GetPath() == "" {
		return 0, 0, errors.New("http.health_check.path is required (e.g. /healthz)")
	}
	interval, timeout = 5*time.Second, time.Second
	if hc.Interval != nil {
		interval = hc.GetInterval().AsDuration()
	}
	if hc.Timeout != nil {
		timeout = hc.GetTimeout().AsDuration()
	} else {
		timeout = min(timeout, interval)
	}
	if timeout > interval {
		return 0, 0, fmt.Errorf("http.health_check.timeout (%v) is longer than its interval (%v)", timeout, interval)
	}
	return interval, timeout, nil
}

// newChecker prepares the checks of bases (the URLs) into down; start
// runs them.
func newChecker(rt http.RoundTripper, bases []*url.URL, path string, interval, timeout time.Duration, down []atomic.Bool) *checker {
	c := &checker{
		client:   &http.Client{Transport: rt, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		down:     down,
		interval: interval,
		timeout:  timeout,
		done:     make(chan struct{}),
	}
	for _, b := range bases {
		c.targets = append(c.targets, b.Scheme+"://"+b.Host+path)
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c
}

// start runs a round now, then one every interval until stop.
func (c *checker) start() {
	go func() {
		defer close(c.done)
		t := time.NewTicker(c.interval)
		defer t.Stop()
		for {
			c.round()
			select {
			case <-c.ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// stop ends the checks and waits for a round under way.
func (c *checker) stop() {
	c.cancel()
	<-c.done
}

// round checks every URL once and records the verdicts.
func (c *checker) round() {
	c.mu.Lock()
	defer c.mu.Unlock()
	ok := make([]bool, len(c.targets))
	var wg sync.WaitGroup
	for k := range c.targets {
		wg.Go(func() { ok[k] = c.probe(c.targets[k]) })
	}
	wg.Wait()
	if c.ctx.Err() != nil {
		return // stopping: a check cut short says nothing
	}
	for k := range ok {
		c.down[k].Store(!ok[k])
	}
}

// probe asks one URL's health path: a 2xx within the timeout passes.
func (c *checker) probe(target string) bool {
	ctx, cancel := context.WithTimeout(c.ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return false
	}
	req.Header.Set("User-Agent", "portico-health-check")
	resp, err := c.client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	return resp.StatusCode >= 200 && resp.StatusCode <= 299
}
