package grpcbackend

import (
	"context"
	"strconv"
	"time"

	"github.com/portico-gw/portico/catalog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// hedging sends a unary call several times, each attempt delay after the
// previous one (or at once when the previous failed with a non-fatal
// code); the first answer that is a success or a fatal error wins and the
// other attempts are cancelled (gRFC A6's hedging policy).
//
// Written here because grpc-go parses no hedgingPolicy and sends one
// attempt at a time (stream.go: "TODO(hedging)"). It applies to unary
// methods that are idempotent (Idempotent) only, and each attempt goes
// through the connection's own load balancing, so with round_robin the
// attempts land on different endpoints.
type hedging struct {
	attempts int
	delay    time.Duration
	nonFatal map[codes.Code]bool
}

// previousAttempts is the metadata key gRFC A6 gives the attempt number.
const previousAttempts = "grpc-previous-rpc-attempts"

// run makes the call; ctx carries the call's deadline and outgoing
// metadata.
func (h *hedging) run(ctx context.Context, conn *grpc.ClientConn, m *catalog.Method, req any, raw bool) attempt {
	ctx, cancelAll := context.WithCancel(ctx)
	defer cancelAll() // the attempts still running when one wins
	results := make(chan attempt, h.attempts)
	launch := func(n int) {
		actx := ctx
		if n > 0 {
			actx = metadata.AppendToOutgoingContext(ctx, previousAttempts, strconv.Itoa(n))
		}
		go func() { results <- invoke(actx, conn, m, req, raw) }()
	}
	launch(0)
	sent, pending := 1, 1
	timer := time.NewTimer(h.delay)
	defer timer.Stop()
	var last attempt
	for {
		select {
		case a := <-results:
			pending--
			if a.err == nil || !h.nonFatal[status.Code(a.err)] {
				return a
			}
			last = a
			if sent < h.attempts {
				launch(sent)
				sent++
				pending++
				timer.Reset(h.delay)
			} else if pending == 0 {
				return last
			}
		case <-timer.C:
			if sent < h.attempts {
				launch(sent)
				sent++
				pending++
				timer.Reset(h.delay)
			}
		case <-ctx.Done():
			// The attempts end with the context; take the first to report
			// it, so the status is the one grpc-go gives.
			return <-results
		}
	}
}
