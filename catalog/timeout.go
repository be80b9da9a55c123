package catalog

import "time"

// Timeout is the deadline the config gives calls of m: the shortest of
// the apis[].methods[].timeout entries naming it and, for a unary method,
// its API's apis[].timeout (a stream may live long: it gets a deadline
// from its API only through its backend's own); 0 when none is set.
func (m *Method) Timeout() time.Duration {
	var d time.Duration
	shorter := func(t time.Duration) {
		if t > 0 && (d == 0 || t < d) {
			d = t
		}
	}
	if !m.Streaming() && m.api != nil && m.api.Settings.GetTimeout() != nil {
		shorter(m.api.Settings.GetTimeout().AsDuration())
	}
	for _, o := range m.overrides {
		if o.Settings.GetTimeout() != nil {
			shorter(o.Settings.GetTimeout().AsDuration())
		}
	}
	return d
}

// TimeoutBackend is a backend that gives calls a deadline: the route
// table shows it.
type TimeoutBackend interface {
	// CallTimeout is the deadline a call of m gets (before the client's
	// own, which wins when shorter); 0 when none.
	CallTimeout(m *Method) time.Duration
}
