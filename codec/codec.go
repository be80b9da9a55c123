// Package codec is how gRPC messages cross Portico's edges as bytes. The
// gRPC door receives each request message as a Frame — the raw bytes,
// decoded nothing — and decodes it itself with Decode, which never panics
// (protobuf-go's slow path for descriptor-only messages panics on some
// malformed map entries), bounds recursion, and answers INVALID_ARGUMENT
// for bad input: grpc-go's own codec errors become INTERNAL, and a panic in
// them would take the process down. Backend clients use the same guard on
// what backends send back.
package codec

import (
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/protoadapt"
)

// DefaultRecursionLimit bounds message nesting when decoding (protobuf-go
// allows 10,000 levels; a JSON value nested that deep costs the gateway
// and every backend). Two levels per JSON level for Struct/Value.
const DefaultRecursionLimit = 130

// Frame is one message's wire bytes, received without decoding.
type Frame struct {
	buf mem.Buffer
}

// Bytes returns the frame's bytes; valid until Free.
func (f *Frame) Bytes() []byte {
	if f.buf == nil {
		return nil
	}
	return f.buf.ReadOnlyData()
}

// Len is the frame's size in bytes.
func (f *Frame) Len() int {
	if f.buf == nil {
		return 0
	}
	return f.buf.Len()
}

// Free returns the frame's buffer to its pool.
func (f *Frame) Free() {
	if f.buf != nil {
		f.buf.Free()
		f.buf = nil
	}
}

// Codec is a grpc-go CodecV2 named "proto" (so clients see no
// difference): it marshals proto messages and Frames, and unmarshals into
// a Frame (keeping the bytes) or into a proto message (guarded, as
// Decode).
type Codec struct {
	// RecursionLimit bounds nesting; 0 means DefaultRecursionLimit.
	RecursionLimit int
}

var _ encoding.CodecV2 = Codec{}

// Name is "proto".
func (Codec) Name() string { return "proto" }

// Marshal encodes a proto message, or passes a Frame's bytes on.
func (Codec) Marshal(v any) (mem.BufferSlice, error) {
	if f, ok := v.(*Frame); ok {
		if f.buf == nil {
			return nil, nil
		}
		f.buf.Ref()
		return mem.BufferSlice{f.buf}, nil
	}
	msg := messageOf(v)
	if msg == nil {
		return nil, fmt.Errorf("codec: cannot marshal %T", v)
	}
	// Plain allocations, not grpc-go's buffer pool: messages a gateway
	// forwards come in every size, and the pool's size classes kept tens of
	// megabytes of large buffers alive under concurrent streams (peak RSS
	// 262 MB against 109 MB without it, in TestPeakRSSUnderWorstCaseLoad's
	// stream case); a []byte without pointers costs the GC little.
	b, err := proto.MarshalOptions{}.Marshal(msg)
	if err != nil {
		return nil, err
	}
	return mem.BufferSlice{mem.SliceBuffer(b)}, nil
}

// Unmarshal keeps the bytes in a Frame, or decodes them into a proto
// message with Decode's guards.
func (c Codec) Unmarshal(data mem.BufferSlice, v any) error {
	if f, ok := v.(*Frame); ok {
		f.Free()
		f.buf = data.MaterializeToBuffer(mem.DefaultBufferPool())
		return nil
	}
	msg := messageOf(v)
	if msg == nil {
		return fmt.Errorf("codec: cannot unmarshal into %T", v)
	}
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	return Decode(buf.ReadOnlyData(), msg, c.RecursionLimit)
}

// Decode unmarshals b into msg. It never panics: a malformed message —
// including one that makes protobuf-go panic — or one nested deeper than
// limit (0: DefaultRecursionLimit) is an INVALID_ARGUMENT status.
func Decode(b []byte, msg proto.Message, limit int) (err error) {
	if limit <= 0 {
		limit = DefaultRecursionLimit
	}
	defer func() {
		if v := recover(); v != nil {
			proto.Reset(msg)
			err = status.Error(codes.InvalidArgument, "malformed request message")
		}
	}()
	if err := (proto.UnmarshalOptions{RecursionLimit: limit}).Unmarshal(b, msg); err != nil {
		return status.Errorf(codes.InvalidArgument, "malformed request message: %v", err)
	}
	return nil
}

func messageOf(v any) proto.Message {
	switch v := v.(type) {
	case protoadapt.MessageV2:
		return v
	case protoadapt.MessageV1:
		return protoadapt.MessageV2Of(v)
	}
	return nil
}

// Client is the codec for calls to backends: the same guards as Codec,
// with an empty name so grpc-go sends the plain "application/grpc" content
// type, as any other gRPC client does (the name would make it
// "application/grpc+proto", which backends see and echo).
type Client struct{ Codec }

// Name is empty: no content subtype.
func (Client) Name() string { return "" }

// NewFrame makes a frame of b (sent as is by Marshal).
func NewFrame(b []byte) *Frame { return &Frame{buf: mem.SliceBuffer(b)} }
