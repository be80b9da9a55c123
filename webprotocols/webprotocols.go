// Package webprotocols serves gRPC-Web and Connect: requests the
// classifier (classify.go) says speak them are served by the gRPC door,
// so every gate, the pipeline, the raw forwarding path and the backend
// are the gRPC door's. Unary calls take the direct path (direct.go): the
// edge decodes them and hands them to the door's handler through a
// stream of its own. The rest is translated into gRPC by
// connectrpc.com/vanguard and handed to the door's grpc.Server (its
// ServeHTTP). Nothing else reaches either: REST stays the REST door's
// (transcoder).
package webprotocols

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"connectrpc.com/vanguard"
	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/compression"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/transcoder/jsonenc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Options tune the translator.
type Options struct {
	// MaxMessageBytes bounds a message vanguard buffers to translate it
	// (limits.max_body_bytes); a larger one ends the call with
	// RESOURCE_EXHAUSTED.
	MaxMessageBytes int64
	// BodyTimeout bounds reading the body of a call whose method takes
	// one message (limits.body_timeout; bodytime.go). 0: no bound.
	BodyTimeout time.Duration
	// OnError writes an error the edge answers itself (a request whose
	// headers name a protocol it cannot serve): the REST door's writer.
	OnError func(http.ResponseWriter, *http.Request, error)
	// Compression compresses the answers of Connect's unary calls, which
	// use HTTP's content codings, as the REST door's answers are (the
	// gRPC door answers an uncompressed call uncompressed). Nil: as they
	// come.
	Compression *compression.Compression
	// VanguardOnly serves every call through vanguard, none on the direct
	// path (direct.go): for tests that hold one against the other.
	VanguardOnly bool
}

// Edge sends the requests of the protocols the config turns on to the
// gRPC door and every other request to what it wraps.
type Edge struct {
	grpcWeb, connect bool
	vg               *vanguard.Transcoder
	unary            http.Handler // vg, its answers compressed by Accept-Encoding
	directUnary      http.Handler // serveDirect, its answers compressed by Accept-Encoding
	cat              *catalog.Catalog
	maxMessage       int64
	bodyTimeout      time.Duration
	vanguardOnly     bool
	enc              *jsonenc.Encoder // Connect JSON answers on the direct path
	onError          func(http.ResponseWriter, *http.Request, error)
}

// New builds the translator for the catalog's services (descriptor sets
// loaded at run time included: it is built per snapshot). It returns nil
// when the config turns both protocols off.
func New(cat *catalog.Catalog, c *configv1.Protocols, o Options) (*Edge, error) {
	e := &Edge{grpcWeb: c == nil || c.GrpcWeb == nil || *c.GrpcWeb, connect: c == nil || c.Connect == nil || *c.Connect, onError: o.OnError}
	if !e.grpcWeb && !e.connect {
		return nil, nil
	}
	limit := o.MaxMessageBytes
	if limit <= 0 || limit > math.MaxUint32 {
		limit = math.MaxUint32
	}
	target := http.HandlerFunc(serveTarget)
	sds, err := schemas(cat)
	if err != nil {
		return nil, fmt.Errorf("gRPC-Web and Connect: %v", err)
	}
	services := make([]*vanguard.Service, 0, len(sds))
	for _, sd := range sds {
		services = append(services, vanguard.NewServiceWithSchema(sd, target))
	}
	vg, err := vanguard.NewTranscoder(services, append(codecs(), boundedGzip(limit), vanguard.WithDefaultServiceOptions(
		// The gRPC door speaks gRPC with the proto codec, and takes gzip.
		vanguard.WithTargetProtocols(vanguard.ProtocolGRPC),
		vanguard.WithTargetCodecs(vanguard.CodecProto),
		vanguard.WithTypeResolver(cat.Types()),
		vanguard.WithMaxMessageBufferBytes(uint32(limit)),
	))...)
	if err != nil {
		return nil, fmt.Errorf("gRPC-Web and Connect: %v", err)
	}
	e.vg, e.cat, e.maxMessage, e.vanguardOnly = vg, cat, limit, o.VanguardOnly
	e.bodyTimeout = o.BodyTimeout
	e.enc = jsonenc.NewWithResolver(cat.Types())
	if e.unary, err = o.Compression.Answers(vg); err != nil {
		return nil, fmt.Errorf("gRPC-Web and Connect: %v", err)
	}
	if e.directUnary, err = o.Compression.Answers(http.HandlerFunc(e.serveDirect)); err != nil {
		return nil, fmt.Errorf("gRPC-Web and Connect: %v", err)
	}
	return e, nil
}

// Handler sends Connect and gRPC-Web requests (those the config turns
// on) to the gRPC door, and the rest to next. A nil Edge returns next.
func (e *Edge) Handler(next http.Handler) http.Handler {
	if e == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := Classify(r)
		if (p == GRPCWeb && e.grpcWeb) || (p == Connect && e.connect) {
			if target, _ := r.Context().Value(targetKey{}).(http.Handler); target != nil {
				e.serve(w, r, p)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// serve hands a request of protocol p to the direct path (direct.go) or
// to vanguard, as vanguard would classify it too (so it never takes it for
// REST), with the REST door's call hidden from the gRPC door but its
// request ID and protocol kept.
func (e *Edge) serve(w http.ResponseWriter, r *http.Request, p Protocol) {
	if !normalize(r, p) {
		e.onError(w, r, call.WithHTTPStatus(http.StatusUnsupportedMediaType,
			status.Newf(codes.InvalidArgument, "%s requests need an application/ content type", p)))
		return
	}
	ctx, via, info := viaContext(r, p)
	r = r.WithContext(ctx)
	if info != nil {
		defer func() { info.Delegated = via.reached.Load() }()
	}
	var body *timedBody
	if takesOneMessage(e.cat, r) {
		body = e.timeBody(w, r)
		defer body.disarm()
	}
	if e.direct(r, p) {
		if p == Connect {
			e.directUnary.ServeHTTP(w, r) // its answer by Accept-Encoding
		} else {
			e.serveDirect(w, r)
		}
		return
	}
	if isText(r) {
		w, r = textAdapter(w, r)
	}
	if enveloped(r) && takesOneMessage(e.cat, r) {
		code, err := oneEnvelope(r, e.maxMessage)
		body.disarm()
		if err != nil {
			writeEnvelopeError(w, r, code, err)
			return
		}
	}
	if p == Connect && !enveloped(r) {
		if err := e.readUnary(r); err != nil {
			body.disarm()
			(&stream{w: w, protocol: Connect}).End(err)
			return
		}
		body.disarm()
		e.unary.ServeHTTP(w, r) // a unary call: its answer by Accept-Encoding
	} else {
		e.vg.ServeHTTP(w, r)
	}
}

// normalize lower-cases a gRPC-Web or Connect request's content type and
// reports whether vanguard will classify it as p: otherwise (say a
// Connect-Protocol-Version header on a text/plain body) vanguard would
// take it for REST, which is the REST door's alone.
func normalize(r *http.Request, p Protocol) bool {
	cts := r.Header.Values("Content-Type")
	if len(cts) > 1 {
		return false
	}
	if len(cts) == 0 {
		return p == Connect // a GET, or vanguard's own 415
	}
	ct := strings.ToLower(cts[0])
	r.Header.Set("Content-Type", ct)
	if p == GRPCWeb {
		return ct == "application/grpc-web" || strings.HasPrefix(ct, "application/grpc-web+") ||
			ct == "application/grpc-web-text" || strings.HasPrefix(ct, "application/grpc-web-text+")
	}
	return strings.HasPrefix(ct, "application/")
}

// enveloped reports whether r's body is a stream of envelopes (gRPC-Web,
// Connect streaming), after normalize.
func enveloped(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	return strings.HasPrefix(ct, "application/grpc-web") || strings.HasPrefix(ct, "application/connect+")
}

type targetKey struct{}

// WithTarget returns ctx naming the gRPC door's handler (its grpc.Server)
// as where translated calls go; the listener's door sets it on each
// request. Without it the edge serves nothing (the requests go on as
// REST).
func WithTarget(ctx context.Context, grpcServer http.Handler) context.Context {
	return context.WithValue(ctx, targetKey{}, grpcServer)
}

// serveTarget hands a translated call to the gRPC door named in its
// context.
func serveTarget(w http.ResponseWriter, r *http.Request) {
	r.Context().Value(targetKey{}).(http.Handler).ServeHTTP(w, r)
}

// Via says a gRPC door call was translated from a web protocol.
type Via struct {
	// Protocol is the client's protocol.
	Protocol Protocol
	// RequestID is the ID the REST listener's edges gave the call (and
	// already returned in the response header), under RequestIDHeader.
	RequestID, RequestIDHeader string

	reached atomic.Bool
}

// Reached records that the gRPC door took the call (and observes it).
func (v *Via) Reached() { v.reached.Store(true) }

type viaKey struct{}

// From returns how the gRPC door call in ctx was translated, or nil for
// a native gRPC call.
func From(ctx context.Context) *Via {
	v, _ := ctx.Value(viaKey{}).(*Via)
	return v
}
