package telemetry

// One test per bug found in this package, named for it.

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"google.golang.org/grpc"
)

// endedStream is a backend stream that has already finished: like
// grpc-go's, its own context is cancelled before RecvMsg reports io.EOF.
type endedStream struct {
	grpc.ClientStream
	ctx context.Context
}

func (s endedStream) Context() context.Context { return s.ctx }
func (s endedStream) RecvMsg(any) error        { return io.EOF }

// TestRegressStreamSpanRacedItsEnd: a server stream read to its end was
// now and then traced as status 2 (Unknown): the tracer watched the
// stream's context, which grpc-go cancels before the last RecvMsg returns
// io.EOF, and the watcher won. Found by TestTracesOnBothDoors in CI.
func TestRegressStreamSpanRacedItsEnd(t *testing.T) {
	streamCtx, cancelStream := context.WithCancel(context.Background())
	cancelStream()
	caller, cancelCaller := context.WithCancel(context.Background())
	defer cancelCaller()
	ended := make(chan error, 2)
	ts := traceStream(caller, endedStream{ctx: streamCtx}, func(err error) { ended <- err })

	// A watcher on the stream's context fires at once; give it the time
	// it would need before reading the stream's end.
	select {
	case err := <-ended:
		t.Fatalf("the stream's record ended before its last message was read: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	if err := ts.RecvMsg(nil); !errors.Is(err, io.EOF) {
		t.Fatalf("RecvMsg: got %v, want io.EOF", err)
	}
	if err := <-ended; err != nil {
		t.Errorf("a stream read to its end: ended with %v, want success", err)
	}
	cancelCaller()
	if len(ended) != 0 {
		t.Errorf("the record ended twice: %v", <-ended)
	}
}

// A stream nobody reads to its end ends when its caller's context does.
func TestStreamSpanEndsWithItsCaller(t *testing.T) {
	streamCtx, cancelStream := context.WithCancel(context.Background())
	defer cancelStream()
	caller, cancelCaller := context.WithCancel(context.Background())
	ended := make(chan error, 1)
	traceStream(caller, endedStream{ctx: streamCtx}, func(err error) { ended <- err })
	cancelCaller()
	if err := <-ended; !errors.Is(err, context.Canceled) {
		t.Errorf("ended with %v, want context.Canceled", err)
	}
}
