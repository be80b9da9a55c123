package httpbackend

import (
	"context"
	"io"
	"net/http"

	"github.com/portico-gw/portico/integrations"
	"github.com/portico-gw/portico/integrations/guard"
	"github.com/portico-gw/portico/telemetry"
	"google.golang.org/grpc/status"
)

// balancer is the http.RoundTripper of an integration's calls and proxied
// routes: each attempt goes to a URL the endpoint set picks (round
// robin, in rotation, breaker not open), and an attempt of an idempotent
// request that failed as the retry policy lists is sent again, on
// another URL when there is one, while the retry budget lasts. Retries
// are decided on the status line alone, before the answer is passed on:
// an answer that has started to reach the client is never retried.
//
// Every URL has the base URL's scheme and path: an attempt only changes
// the request's host.
type balancer struct {
	rt    http.RoundTripper
	set   *endpointSet
	guard *guard.Guard
	retry *retryPolicy // nil: one attempt
}

// attemptKey carries an *attempt in a request's context.
type attemptKey struct{}

// attempt lets the caller report the outcome of the attempt whose
// answer it got (a proto method's decoded status, a proxied answer's
// status): the breaker and outlier ejection count what the call made of
// it. Without one, the answer's HTTP status is counted.
type attempt struct {
	finish func(error)
}

// withAttempt returns ctx carrying a for RoundTrip to fill.
func withAttempt(ctx context.Context, a *attempt) context.Context {
	return context.WithValue(ctx, attemptKey{}, a)
}

// end reports the call's outcome to the attempt that answered (if any).
func (a *attempt) end(err error) {
	if a.finish != nil {
		a.finish(err)
		a.finish = nil
	}
}

func (b *balancer) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	attempts := 1
	if b.retry != nil && idempotent(req.Method) {
		b.set.budget.deposit()
		var ok bool
		if req, ok = replayable(req); ok {
			attempts = b.retry.attempts
		}
	}
	tried := make([]bool, len(b.set.urls))
	for a := 0; ; a++ {
		k, done, err := b.set.pick(ctx, b.guard, tried)
		if err != nil {
			closeBody(req)
			return nil, err
		}
		tried[k] = true
		out, err := b.onto(req, k, a > 0)
		if err != nil {
			b.set.finish(ctx, k, done, integrations.Unavailable)
			return nil, err
		}
		resp, err := b.rt.RoundTrip(out)
		if a+1 < attempts && b.retry.retryable(ctx, resp, err) && b.set.budget.take() {
			if resp != nil {
				_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
				_ = resp.Body.Close()
			}
			b.set.finish(ctx, k, done, integrations.Unavailable)
			telemetry.Retry(ctx, b.set.name)
			continue
		}
		if err != nil {
			b.set.finish(ctx, k, done, transportError(ctx, err))
			return nil, err
		}
		if rec, _ := ctx.Value(attemptKey{}).(*attempt); rec != nil {
			rec.finish = func(err error) { b.set.finish(ctx, k, done, err) }
		} else {
			b.set.finish(ctx, k, done, statusOutcome(resp.StatusCode))
		}
		return resp, nil
	}
}

// onto is req sent to URL k: its host changed (and, for an attempt sent
// again, a fresh copy of its body).
func (b *balancer) onto(req *http.Request, k int, again bool) (*http.Request, error) {
	host := b.set.hosts[k]
	if req.URL.Host == host && !again {
		return req, nil
	}
	out := req.Clone(req.Context())
	out.URL.Host = host
	if out.Host != "" {
		out.Host = host
	}
	if again && req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		out.Body = body
	}
	return out, nil
}

// closeBody closes a request's body that will not be sent (as a
// RoundTripper must).
func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// statusOutcome is an answer's HTTP status as the breaker and outlier
// ejection count it: a 5xx is the backend's failure.
func statusOutcome(code int) error {
	if code >= 500 {
		return status.Error(CodeFromHTTP(code), "backend answered HTTP "+http.StatusText(code))
	}
	return nil
}
