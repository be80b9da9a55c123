//go:build unix

package lifecycle

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"
)

func TestRunServeFails(t *testing.T) {
	want := errors.New("listener gone")
	err := Run(func() error { return want }, func(context.Context) error {
		t.Error("shutdown called although serve ended on its own")
		return nil
	})
	if !errors.Is(err, want) {
		t.Errorf("got %v, want %v", err, want)
	}
}

func TestRunStopsOnSignal(t *testing.T) {
	stopped := make(chan struct{})
	want := errors.New("shutdown's own error")
	err := Run(func() error {
		// Run listens for signals before it calls serve.
		if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
			t.Error(err)
		}
		<-stopped
		return nil
	}, func(ctx context.Context) error {
		defer close(stopped)
		dl, ok := ctx.Deadline()
		if left := time.Until(dl); !ok || left <= 0 || left > Grace {
			t.Errorf("shutdown's deadline: in %v (set %v), want within %v", left, ok, Grace)
		}
		return want
	})
	if !errors.Is(err, want) {
		t.Errorf("got %v, want shutdown's error", err)
	}
}
