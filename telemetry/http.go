package telemetry

import (
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/portico-gw/portico/call"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Middleware observes every request to the REST door: it is the outermost
// handler, so requests the door refuses (404, 405, 413, 414, 431, a gate's
// refusal, too many calls in flight) are traced, counted and logged like
// the others. It makes the call's Info, which the door goes on filling,
// and reads it once the door is done.
//
// Written here rather than with otelhttp: otelhttp names the span and
// labels its metrics before the door has routed the request, and it
// cannot give both doors one set of metrics labelled by API, gRPC method
// and route template. The span itself is the OpenTelemetry API's.
func (t *Telemetry) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := call.NewHTTP(r)
		rec := &record{t: t, info: info, start: time.Now()}
		if r.ContentLength > 0 {
			rec.in.Store(r.ContentLength)
		}
		ctx := t.prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		span := trace.SpanFromContext(ctx) // the client's context, or none
		if t.traces(span) {
			// Named for the method for now; annotate renames it after
			// the route once routing is done.
			ctx, span = t.tracer.Start(ctx, httpMethodName(r.Method), trace.WithSpanKind(trace.SpanKindServer))
		}
		ctx = withRecord(call.NewContext(ctx, info), rec)

		sw := writerPool.Get().(*statusWriter)
		sw.ResponseWriter, sw.status, sw.bytes = w, 0, 0
		defer func() {
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			rec.out.Store(sw.bytes)
			rec.finish(ctx, span, outcome{httpStatus: status})
			span.End()
			sw.ResponseWriter = nil
			writerPool.Put(sw)
		}()
		r = r.WithContext(ctx)
		if r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody {
			// A chunked body (a client-streaming call): count as it is read.
			r.Body = &countingBody{ReadCloser: r.Body, n: &rec.in}
		}
		next.ServeHTTP(sw, r)
	})
}

// countingBody counts the bytes read from a request body.
type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// traces reports whether a call whose parent span (the client's, the
// server span) is parent makes spans of its own.
func (t *Telemetry) traces(parent trace.Span) bool {
	return t.tracer != nil && (t.sampleRoots || parent.SpanContext().IsValid())
}

// statusWriter notes the status and the bytes written. Unwrap lets
// http.ResponseController reach the connection (deadlines, flushing,
// full duplex), which is how the door uses those.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

var writerPool = sync.Pool{New: func() any { return new(statusWriter) }}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Flush is for code that type-asserts http.Flusher rather than using
// http.ResponseController.
func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
