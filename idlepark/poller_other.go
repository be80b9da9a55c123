//go:build !linux

package idlepark

// poller is Linux's; elsewhere each parked connection waits on a
// goroutine of its own.
type poller struct{}

func newPoller() *poller        { return nil }
func (*poller) add(*conn) bool  { return false }
func (*poller) forget(*conn)    {}
func (*poller) run(func(*conn)) {}
func (*poller) close()          {}
