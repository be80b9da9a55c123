package webprotocols

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/codec"
	"github.com/portico-gw/portico/transcoder/jsonenc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// stream is a unary call on the direct path: its one request, decoded
// from the client's protocol, and its answer, kept until End writes it
// with the headers and trailers set meanwhile (a Connect unary answer
// carries its trailers as headers).
type stream struct {
	ctx      context.Context
	w        http.ResponseWriter
	protocol Protocol
	json     bool // Connect with application/json
	method   string
	types    *catalog.TypeResolver
	enc      *jsonenc.Encoder
	in, out  protoreflect.MessageDescriptor
	limit    int64

	md              metadata.MD // the incoming metadata
	body            []byte      // the request message as the client sent it
	read            bool
	header, trailer metadata.MD
	answer          []byte  // the response message, encoded for the client
	pooled          *[]byte // the pool's buffer answer was built in
	answered        bool
	inN, outN       int
	decoded         proto.Message // decoded from JSON; its size not measured yet
}

var _ Stream = (*stream)(nil)

func (s *stream) Context() context.Context { return s.ctx }
func (s *stream) Method() string           { return s.method }

// Sizes are the request's and the answer's message bytes (a message
// decoded from Connect JSON measured now: only the stats handlers ask).
func (s *stream) Sizes() (int, int) {
	if s.decoded != nil {
		s.inN, s.decoded = proto.Size(s.decoded), nil
	}
	return s.inN, s.outN
}
func (s *stream) Incoming() metadata.MD { return s.md }
func (s *stream) Binary() bool          { return !s.json }

func (s *stream) SetHeader(md metadata.MD) error {
	if s.answered {
		return status.Error(codes.Internal, "headers already sent")
	}
	s.header = join(s.header, md)
	return nil
}

func (s *stream) SendHeader(md metadata.MD) error { return s.SetHeader(md) }

func (s *stream) SetTrailer(md metadata.MD) { s.trailer = join(s.trailer, md) }

// join is metadata.Join without a copy for the first md: the stream only
// reads what it is given, and a later one is joined into a new map.
func join(held, md metadata.MD) metadata.MD {
	if held == nil {
		return md
	}
	return metadata.Join(held, md)
}

// RecvMsg gives the request once (as wire bytes in a codec.Frame, or
// decoded), then io.EOF.
func (s *stream) RecvMsg(m any) error {
	if s.read {
		return io.EOF
	}
	s.read = true
	b := s.body
	if s.json && len(b) == 0 {
		return io.EOF // no message (as vanguard sends it)
	}
	if s.json {
		msg, err := s.message(s.in)
		if err != nil {
			return err
		}
		if err := (protojson.UnmarshalOptions{Resolver: s.types, DiscardUnknown: true}).Unmarshal(b, msg); err != nil {
			return status.Error(codes.InvalidArgument, err.Error())
		}
		if b, err = proto.Marshal(msg); err != nil {
			return status.Error(codes.InvalidArgument, err.Error())
		}
	}
	s.inN = len(b)
	if int64(len(b)) > s.limit {
		return status.Errorf(codes.ResourceExhausted, "grpc: received message larger than max (%d vs. %d)", len(b), s.limit)
	}
	switch m := m.(type) {
	case *codec.Frame:
		*m = *codec.NewFrame(b)
		return nil
	case proto.Message:
		return codec.Decode(b, m, codec.DefaultRecursionLimit)
	}
	return status.Errorf(codes.Internal, "cannot receive a %T", m)
}

// Decode decodes the request into m (Stream.Decode), once; then io.EOF.
func (s *stream) Decode(m proto.Message, limit int, admit Admitter) error {
	if !s.json {
		var f codec.Frame
		if err := s.RecvMsg(&f); err != nil {
			return err
		}
		if err := admit.AdmitBytes(f.Len()); err != nil {
			return err
		}
		return codec.Decode(f.Bytes(), m, limit)
	}
	if s.read {
		return io.EOF
	}
	s.read = true
	b := s.body
	if len(b) == 0 {
		return io.EOF // no message (as vanguard sends it)
	}
	if err := admit.AdmitBytes(len(b)); err != nil {
		return err
	}
	// protojson counts nesting its own way (a Struct level is one level
	// there, three on the wire): its bound only keeps its recursion short,
	// and CheckDepth then holds the message to the wire's, as on
	// vanguard's path, where the door decodes the message's wire bytes.
	if err := (protojson.UnmarshalOptions{Resolver: s.types, DiscardUnknown: true, RecursionLimit: limit + 2}).Unmarshal(b, m); err != nil {
		if strings.Contains(err.Error(), "exceeded max recursion depth") {
			return codec.ErrTooDeep
		}
		return status.Error(codes.InvalidArgument, err.Error())
	}
	if err := codec.CheckDepth(m.ProtoReflect(), limit); err != nil {
		return err
	}
	s.decoded = m
	// Its wire size is only worth measuring when it could pass the limit:
	// a JSON byte is at most a few on the wire (a "0," in a ListValue is
	// 11 bytes).
	if int64(len(b))*maxWirePerJSONByte > s.limit {
		if n := proto.Size(m); int64(n) > s.limit {
			return status.Errorf(codes.ResourceExhausted, "grpc: received message larger than max (%d vs. %d)", n, s.limit)
		}
	}
	return nil
}

// maxWirePerJSONByte bounds the wire bytes one byte of Connect JSON
// decodes to.
const maxWirePerJSONByte = 8

// SendMsg encodes the answer for the client (written by End).
func (s *stream) SendMsg(m any) error {
	if s.answered {
		return status.Error(codes.Internal, "a unary call answers one message")
	}
	var b []byte
	var err error
	switch m := m.(type) {
	case *codec.Frame:
		if s.json {
			b, err = s.frameJSON(m.Bytes())
			break
		}
		b = append(s.buffer(), m.Bytes()...) // the frame is freed after SendMsg
	case proto.Message:
		if s.json {
			// protojson's output with EmitUnpopulated (vanguard's), faster.
			if b, err = s.enc.Append(s.buffer(), m.ProtoReflect()); err != nil {
				err = status.Errorf(codes.Internal, "encoding the answer: %v", err)
			}
			break
		}
		if b, err = (proto.MarshalOptions{}).MarshalAppend(s.buffer(), m); err != nil {
			err = status.Errorf(codes.Internal, "grpc: error while marshaling: %v", err)
		}
	default:
		err = status.Errorf(codes.Internal, "grpc: error while marshaling: %T is not a message", m)
	}
	if err != nil {
		return err
	}
	s.outN = len(b)
	s.answer, s.answered = b, true
	return nil
}

// answers holds answer buffers between calls.
var answers = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// buffer is an empty buffer from the pool for the answer, given back by
// release once End wrote it.
func (s *stream) buffer() []byte {
	if s.pooled == nil {
		s.pooled = answers.Get().(*[]byte)
	}
	return (*s.pooled)[:0]
}

// release gives the answer's buffer back to the pool (unless it grew
// large: one big answer should not pin its memory for good).
func (s *stream) release() {
	if s.pooled == nil {
		return
	}
	if cap(s.answer) <= 64<<10 {
		if cap(s.answer) > 0 {
			*s.pooled = s.answer[:0]
		}
		answers.Put(s.pooled)
	}
	s.pooled, s.answer = nil, nil
}

// frameJSON is a response message's wire bytes as JSON.
func (s *stream) frameJSON(b []byte) ([]byte, error) {
	msg, err := s.message(s.out)
	if err != nil {
		return nil, err
	}
	if err := proto.Unmarshal(b, msg); err != nil {
		return nil, status.Errorf(codes.Internal, "decoding the answer: %v", err)
	}
	if b, err = s.enc.Append(s.buffer(), msg.ProtoReflect()); err != nil {
		return nil, status.Errorf(codes.Internal, "encoding the answer: %v", err)
	}
	return b, nil
}

// message makes an empty message of type md.
func (s *stream) message(md protoreflect.MessageDescriptor) (proto.Message, error) {
	mt, err := s.types.FindMessageByName(md.FullName())
	if err != nil {
		return nil, status.Errorf(codes.Internal, "message type %s: %v", md.FullName(), err)
	}
	return mt.New().Interface(), nil
}

// TransportStream is the stream as grpc.ServerTransportStream.
func (s *stream) TransportStream() grpc.ServerTransportStream { return transportStream{s} }

type transportStream struct{ s *stream }

func (t transportStream) Method() string                  { return t.s.method }
func (t transportStream) SetHeader(md metadata.MD) error  { return t.s.SetHeader(md) }
func (t transportStream) SendHeader(md metadata.MD) error { return t.s.SendHeader(md) }
func (t transportStream) SetTrailer(md metadata.MD) error { t.s.SetTrailer(md); return nil }
