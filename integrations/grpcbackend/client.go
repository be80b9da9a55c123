package grpcbackend

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
)

// client is a backend's connection, shared by the snapshots that use the
// same settings. It keeps the connection up (a gateway's backends are
// called all the time, and health must say whether they can be reached)
// and tells listeners when its readiness changes.
type client struct {
	conn *grpc.ClientConn
	stop context.CancelFunc
	done chan struct{}

	mu        sync.Mutex
	isReady   bool
	listeners map[int]func()
	next      int
}

func newClient(opts Options) (*client, error) {
	if opts.Target == "" {
		return nil, errors.New("empty target")
	}
	conn, err := grpc.NewClient(opts.Target, dialOptions(opts)...)
	if err != nil {
		return nil, fmt.Errorf("target %q: %v", opts.Target, err)
	}
	ctx, stop := context.WithCancel(context.Background())
	c := &client{conn: conn, stop: stop, done: make(chan struct{}), listeners: map[int]func(){}}
	go c.watch(ctx)
	return c, nil
}

// checkClient makes a client with opts and closes it without connecting:
// grpc-go checks the target, the credentials and the service config.
func checkClient(opts Options) error {
	if opts.Target == "" {
		return errors.New("empty target")
	}
	conn, err := grpc.NewClient(opts.Target, dialOptions(opts)...)
	if err != nil {
		return fmt.Errorf("target %q: %v", opts.Target, err)
	}
	return conn.Close()
}

// watch follows the connection's state: it connects at once, reconnects
// when the connection goes idle, and records readiness. READY is ready;
// TRANSIENT_FAILURE (and SHUTDOWN) is not; CONNECTING and IDLE keep what
// was known, so a reconnect does not flap health.
func (c *client) watch(ctx context.Context) {
	defer close(c.done)
	c.conn.Connect()
	for {
		st := c.conn.GetState()
		switch st {
		case connectivity.Ready:
			c.setReady(true)
		case connectivity.TransientFailure, connectivity.Shutdown:
			c.setReady(false)
		case connectivity.Idle:
			c.conn.Connect()
		}
		if st == connectivity.Shutdown || !c.conn.WaitForStateChange(ctx, st) {
			return
		}
	}
}

func (c *client) setReady(r bool) {
	c.mu.Lock()
	changed := c.isReady != r
	c.isReady = r
	var fs []func()
	if changed {
		for _, f := range c.listeners {
			fs = append(fs, f)
		}
	}
	c.mu.Unlock()
	for _, f := range fs {
		f()
	}
}

func (c *client) ready() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.isReady
}

func (c *client) notify(f func()) (stop func()) {
	c.mu.Lock()
	id := c.next
	c.next++
	c.listeners[id] = f
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		delete(c.listeners, id)
		c.mu.Unlock()
	}
}

// Close stops the watch and closes the connection.
func (c *client) Close() error {
	c.stop()
	err := c.conn.Close()
	<-c.done
	return err
}
