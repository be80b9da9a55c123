package limits

import (
	"context"
	"net/http"
	"time"

	"github.com/portico-gw/portico/call"
	"golang.org/x/sync/semaphore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// smallRequest is the size below which a request never waits for the
// budget: small calls are the common case and cost little to decode.
const smallRequest = 64 << 10

// Budget bounds the bytes of large requests being decoded and served at
// once on one door. Decoding multiplies a message's size in memory (a
// value of a message known only from descriptors costs about 600 bytes),
// and the response is often as large: the budget keeps sixteen concurrent
// 4 MiB requests from needing half a gigabyte. Past it, a large request
// waits for room (FIFO, at most wait), then is refused with 503 /
// RESOURCE_EXHAUSTED, and the backend never sees it.
type Budget struct {
	sem  *semaphore.Weighted
	size int64
	wait time.Duration
}

// NewBudget makes a door's budget of size bytes, where a large request
// waits at most wait for room (default 30s). Nil (no bound) when size is
// not positive.
func NewBudget(size int64, wait time.Duration) *Budget {
	if size <= 0 {
		return nil
	}
	if wait <= 0 {
		wait = 30 * time.Second
	}
	return &Budget{sem: semaphore.NewWeighted(size), size: size, wait: wait}
}

func noRelease() {}

// Admit takes n bytes of the budget for a request; release gives them
// back. It is what a door hands its calls (call.Info.SetAdmission).
func (b *Budget) Admit(ctx context.Context, n int64) (release func(), err error) {
	if b == nil || n < smallRequest {
		return noRelease, nil
	}
	if n > b.size {
		n = b.size // a request larger than the budget runs alone
	}
	if !b.sem.TryAcquire(n) {
		wctx, cancel := context.WithTimeout(ctx, b.wait)
		defer cancel()
		if err := b.sem.Acquire(wctx, n); err != nil {
			return nil, call.WithHTTPStatus(http.StatusServiceUnavailable,
				status.New(codes.ResourceExhausted, "gateway busy: too many large requests in flight"))
		}
	}
	return func() { b.sem.Release(n) }, nil
}
