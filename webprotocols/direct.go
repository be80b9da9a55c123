package webprotocols

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/compression"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// The direct path: a unary Connect call (POST, application/json or
// application/proto, uncompressed or zstd) or a unary gRPC-Web call (binary or
// text, +proto, uncompressed envelope) is decoded here and handed to the
// gRPC door's handler through a Stream of the edge's own (stream.go),
// without vanguard and without grpc-go's HTTP transport: both cost CPU a
// unary call does not need (docs/performance.md). Everything else —
// streams, GET, gzip requests, gRPC-Web +json — goes through
// vanguard as before.

// Stream is a call served on the direct path, as the gRPC door's handler
// sees it: the request is read and the answer written in the client's
// protocol by the edge.
type Stream interface {
	grpc.ServerStream
	// Method is the call's full method name (/pkg.Service/Method).
	Method() string
	// TransportStream is what grpc.NewContextWithServerTransportStream
	// needs (grpc.MethodFromServerStream, grpc.SetHeader on the context).
	TransportStream() grpc.ServerTransportStream
	// End writes the call's end: err's status (nil: OK) with the
	// trailers set, in the client's protocol.
	End(err error)
	// Sizes are the request's and the answer's message bytes.
	Sizes() (in, out int)
	// Decode decodes the request message into m, for a door that needs
	// the message rather than its wire bytes: Connect JSON straight from
	// the JSON, not through wire bytes decoded again. admit is told first
	// of the bytes received, to take the room decoding them needs; limit
	// bounds nesting. io.EOF: there is no message.
	Decode(m proto.Message, limit int, admit Admitter) error
	// Incoming is the call's incoming metadata, as its context holds it
	// (built by the edge: not to be modified).
	Incoming() metadata.MD
	// Binary reports whether the answer goes to the client as protobuf
	// wire bytes (not Connect JSON): SendMsg takes a *codec.Frame as it is.
	Binary() bool
}

// Admitter takes room in the door's budget for n bytes of a request
// message about to be decoded.
type Admitter interface {
	AdmitBytes(n int) error
}

// Direct serves one call from a Stream on the gRPC door (its stats
// handlers, gates and pipeline): grpcdoor.Door.Serve.
type Direct func(Stream)

type directKey struct{}

// WithDirect returns ctx naming the gRPC door's direct entry, beside
// WithTarget. Without it every call goes through vanguard.
func WithDirect(ctx context.Context, d Direct) context.Context {
	return context.WithValue(ctx, directKey{}, d)
}

// direct reports whether r is a call the direct path serves (after
// normalize).
func (e *Edge) direct(r *http.Request, p Protocol) bool {
	if e.vanguardOnly || r.Method != http.MethodPost {
		return false
	}
	if d, _ := r.Context().Value(directKey{}).(Direct); d == nil {
		return false
	}
	m := e.cat.Method(r.URL.Path)
	if m == nil || m.Desc().IsStreamingClient() || m.Desc().IsStreamingServer() {
		return false
	}
	ct := r.Header.Get("Content-Type")
	switch p {
	case Connect:
		if (ct != "application/json" && ct != "application/proto" && ct != "application/json; charset=utf-8") ||
			!decodable(r.Header.Values("Content-Encoding")) {
			return false
		}
	case GRPCWeb:
		ct = strings.Replace(ct, textPrefix, "application/grpc-web", 1)
		if (ct != "application/grpc-web" && ct != "application/grpc-web+proto") || !identity(r.Header.Values("Grpc-Encoding")) {
			return false
		}
	}
	return true
}

// decodable reports whether a Connect unary body's Content-Encoding is
// one the direct path decodes itself (bounded): none, identity or zstd
// (which vanguard does not take). A gzip body stays vanguard's, whose
// answer to it is gzip-compressed whatever its size.
func decodable(vs []string) bool {
	return identity(vs) || len(vs) == 1 && strings.EqualFold(vs[0], compression.Zstd)
}

// identity reports whether a content coding header says the body is
// as it is.
func identity(vs []string) bool {
	return len(vs) == 0 || len(vs) == 1 && (vs[0] == "" || strings.EqualFold(vs[0], "identity"))
}

// serveDirect serves r on the direct path.
func (e *Edge) serveDirect(w http.ResponseWriter, r *http.Request) {
	p := From(r.Context()).Protocol
	d := r.Context().Value(directKey{}).(Direct)
	if p == GRPCWeb && isText(r) {
		w, r = textAdapter(w, r)
	}
	s := &stream{w: w, protocol: p, method: r.URL.Path, types: e.cat.Types(), enc: e.enc, limit: e.maxMessage,
		json: p == Connect && strings.HasPrefix(r.Header.Get("Content-Type"), "application/json")}
	desc := e.cat.Method(r.URL.Path).Desc()
	s.in, s.out = desc.Input(), desc.Output()
	var env []byte
	if p == GRPCWeb {
		// Checked first and answered as on vanguard's path (envelope.go).
		var code codes.Code
		var err error
		if env, code, err = readEnvelope(r, e.maxMessage); err != nil {
			writeEnvelopeError(w, r, code, err)
			return
		}
	}
	ctx, md, cancel, err := incoming(r, p)
	if err == nil {
		defer cancel()
		s.body, err = e.readOne(r, p, env)
	}
	s.ctx, s.md = ctx, md
	if err != nil {
		// Refused before the door: nothing reaches it (as vanguard
		// refused it before the gRPC door).
		s.End(err)
		return
	}
	d(s)
	s.release() // End wrote the answer
}

// readOne reads r's one request message, bounded by the message limit
// (gRPC-Web's from its envelope, read already).
func (e *Edge) readOne(r *http.Request, p Protocol, b []byte) ([]byte, error) {
	if p == GRPCWeb {
		if b[0] != 0 {
			return nil, status.Error(codes.Internal, "grpc: compressed flag set with identity or empty encoding")
		}
		return b[5:], nil
	}
	encoded := !identity(r.Header.Values("Content-Encoding"))
	if encoded {
		// zstd: max_body_bytes bounds the decompressed bytes read.
		if err := compression.DecodeRequest(r); err != nil {
			return nil, status.Convert(err).Err()
		}
	}
	b, err := readBounded(r, e.maxMessage+1)
	if err != nil {
		switch ctxErr := r.Context().Err(); {
		case errors.Is(err, errBodyTimeout):
			return nil, status.Error(codes.DeadlineExceeded, errBodyTimeout.Message())
		case ctxErr != nil:
			return nil, status.FromContextError(ctxErr).Err()
		case encoded:
			return nil, status.Errorf(codes.InvalidArgument, "the request body does not decompress: %v", err)
		}
		return nil, status.Error(codes.Canceled, err.Error())
	}
	if int64(len(b)) > e.maxMessage {
		return nil, status.Errorf(codes.ResourceExhausted, "message is larger than configured max %d", e.maxMessage)
	}
	return b, nil
}

// viaContext is r's context as the gRPC door takes it: the REST door's
// call hidden, its request ID and protocol kept.
func viaContext(r *http.Request, p Protocol) (context.Context, *Via, *call.Info) {
	info := call.FromContext(r.Context())
	if info != nil {
		info.Protocol = p.String()
	}
	via := &Via{Protocol: p, RequestID: info.RequestID(), RequestIDHeader: info.RequestIDHeader()}
	ctx := context.WithValue(r.Context(), viaKey{}, via)
	// The gRPC door makes its own call.Info, as for a native client.
	return call.NewContext(ctx, nil), via, info
}
