package snapshot

import (
	"net/http"

	"github.com/portico-gw/portico/catalog"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/webprotocols"
)

// webBuild is the gRPC-Web and Connect translator being built.
type webBuild struct {
	done     chan struct{}
	edge     *webprotocols.Edge
	err      error
	panicked any // raised again by wait, as if built on Build's goroutine
}

// buildWeb starts building the gRPC-Web and Connect translator for the
// snapshot's catalog on another goroutine: it needs nothing but the
// catalog (read-only by then), the limits and the compression, so on a
// large catalog it takes the second core while the policies, the
// pipeline and the REST door are built (issue 19: a sixth of a
// 100,000-route build). Its errors are reported where they were before,
// after the REST door's (wait).
func buildWeb(s *Snapshot, cat *catalog.Catalog, c *configv1.Protocols, vanguardOnly bool) *webBuild {
	w := &webBuild{done: make(chan struct{})}
	opts := webprotocols.Options{
		MaxMessageBytes: s.limits.MaxBodyBytes,
		BodyTimeout:     s.limits.BodyTimeout,
		// The REST door is built meanwhile; the edge calls its writer
		// only when serving, after Build.
		OnError:      func(rw http.ResponseWriter, r *http.Request, err error) { s.rest.WriteError(rw, r, err) },
		Compression:  s.compress,
		VanguardOnly: vanguardOnly,
	}
	go func() {
		defer close(w.done)
		defer func() { w.panicked = recover() }()
		w.edge, w.err = webprotocols.New(cat, c, opts)
	}()
	return w
}

// wait returns the translator (nil when the config turns both protocols
// off) or why it could not be built.
func (w *webBuild) wait() (*webprotocols.Edge, error) {
	<-w.done
	if w.panicked != nil {
		panic(w.panicked)
	}
	return w.edge, w.err
}
