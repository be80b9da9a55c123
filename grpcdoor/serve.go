package grpcdoor

import (
	"context"
	"time"

	"github.com/portico-gw/portico/webprotocols"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
)

// Serve serves one call from a stream that is not grpc-go's: a unary
// gRPC-Web or Connect call the REST listener decoded itself
// (webprotocols' direct path). What grpc-go does around the door's
// handler happens here too: the stats handlers see the call (TagConn,
// TagRPC, InHeader, Begin, payloads, End with its status — once), and
// the method is on the context's transport stream. The stream's context
// already holds the incoming metadata, the peer and the deadline, and
// must end when Options.Stop does (the server's HTTP listeners derive
// every request's context from it): the door adds no cancel of its own.
func (d *Door) Serve(s webprotocols.Stream) {
	ctx := s.Context()
	method := s.Method()
	p, _ := peer.FromContext(ctx)
	if p == nil {
		p = &peer.Peer{}
	}
	var md metadata.MD
	if len(d.o.Stats) > 0 {
		md, _ = metadata.FromIncomingContext(ctx)
	}
	begin := time.Now()
	for _, sh := range d.o.Stats {
		ctx = sh.TagConn(ctx, &stats.ConnTagInfo{RemoteAddr: p.Addr, LocalAddr: p.LocalAddr})
		sh.HandleConn(ctx, &stats.ConnBegin{})
		ctx = sh.TagRPC(ctx, &stats.RPCTagInfo{FullMethodName: method})
		sh.HandleRPC(ctx, &stats.InHeader{FullMethod: method, RemoteAddr: p.Addr, LocalAddr: p.LocalAddr, Header: md})
		sh.HandleRPC(ctx, &stats.Begin{BeginTime: begin})
	}
	ctx = grpc.NewContextWithServerTransportStream(ctx, s.TransportStream())
	err := d.handle(nil, &directStream{Stream: s, ctx: ctx})
	if _, ok := status.FromError(err); !ok {
		err = status.FromContextError(err).Err()
	}
	s.End(err)
	if len(d.o.Stats) == 0 {
		return
	}
	in, out := s.Sizes()
	end := &stats.End{BeginTime: begin, EndTime: time.Now(), Error: err}
	for _, sh := range d.o.Stats {
		sh.HandleRPC(ctx, &stats.InPayload{RecvTime: begin, Length: in, WireLength: in})
		if out > 0 {
			sh.HandleRPC(ctx, &stats.OutPayload{SentTime: end.EndTime, Length: out, WireLength: out})
		}
		sh.HandleRPC(ctx, end)
		sh.HandleConn(ctx, &stats.ConnEnd{})
	}
}

// directStream is the stream the door's handler gets: the stats
// handlers' context.
type directStream struct {
	webprotocols.Stream
	ctx context.Context
}

func (s *directStream) Context() context.Context { return s.ctx }
