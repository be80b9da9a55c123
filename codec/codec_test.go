package codec_test

import (
	"strings"
	"testing"

	"github.com/portico-gw/portico/codec"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// TestDecodeMalformedMapEntryDoesNotPanic: protobuf-go's slow path panics
// ("type mismatch: cannot convert nil to map key") on a map entry that
// repeats its key with the wrong wire type, for messages known only from
// descriptors. Decode turns it into INVALID_ARGUMENT.
func TestDecodeMalformedMapEntryDoesNotPanic(t *testing.T) {
	for _, tt := range []struct {
		md protoreflect.MessageDescriptor
		in []byte
	}{
		// Struct.fields (a map) with the entry's key repeated as a varint.
		{(&structpb.Struct{}).ProtoReflect().Descriptor(), []byte{0x0a, 0x05, 0x0a, 0x01, 0x61, 0x08, 0x00}},
		// The same inside Value.struct_value.
		{(&structpb.Value{}).ProtoReflect().Descriptor(), []byte{0x2a, 0x07, 0x0a, 0x05, 0x0a, 0x01, 0x61, 0x08, 0x00}},
	} {
		in := tt.in
		msg := dynamicpb.NewMessage(tt.md)
		err := codec.Decode(in, msg, 0)
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("% x: got %v, want InvalidArgument", in, err)
		}
	}
}

// TestDecodeRecursionLimit: nesting beyond the limit is refused.
func TestDecodeRecursionLimit(t *testing.T) {
	v := structpb.NewStringValue("x")
	for i := 0; i < 200; i++ {
		v = structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{v}})
	}
	b, err := proto.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := codec.Decode(b, &structpb.Value{}, 0); status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "malformed") {
		t.Errorf("200 levels: got %v, want InvalidArgument", err)
	}
	if err := codec.Decode(b, &structpb.Value{}, 1000); err != nil {
		t.Errorf("with a limit of 1000: got %v, want nil", err)
	}
}

func TestDecodeGood(t *testing.T) {
	b, _ := proto.Marshal(wrapperspb.String("hello"))
	md := (&wrapperspb.StringValue{}).ProtoReflect().Descriptor()
	msg := dynamicpb.NewMessage(md)
	if err := codec.Decode(b, msg, 0); err != nil {
		t.Fatal(err)
	}
	if got := msg.Get(md.Fields().ByName("value")).String(); got != "hello" {
		t.Errorf("got %q, want hello", got)
	}
}

// TestFrameRoundTrip: a Frame keeps the bytes it was given and marshals
// them back unchanged.
func TestFrameRoundTrip(t *testing.T) {
	c := codec.Codec{}
	want, _ := proto.Marshal(wrapperspb.String("raw"))
	var f codec.Frame
	if err := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(want)}, &f); err != nil {
		t.Fatal(err)
	}
	if string(f.Bytes()) != string(want) || f.Len() != len(want) {
		t.Fatalf("frame holds % x, want % x", f.Bytes(), want)
	}
	out, err := c.Marshal(&f)
	if err != nil {
		t.Fatal(err)
	}
	if got := out.Materialize(); string(got) != string(want) {
		t.Errorf("marshalled % x, want % x", got, want)
	}
	out.Free()
	f.Free()
	if f.Len() != 0 {
		t.Error("a freed frame still has bytes")
	}
}

// TestUnmarshalIntoMessageGuarded: unmarshalling into a message goes
// through Decode's guard.
func TestUnmarshalIntoMessageGuarded(t *testing.T) {
	md := (&structpb.Struct{}).ProtoReflect().Descriptor()
	msg := dynamicpb.NewMessage(md)
	err := codec.Codec{}.Unmarshal(mem.BufferSlice{mem.SliceBuffer([]byte{0x0a, 0x05, 0x0a, 0x01, 0x61, 0x08, 0x00})}, msg)
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("got %v, want InvalidArgument", err)
	}
	var _ protoreflect.Message = msg
}

func TestMarshalWrongType(t *testing.T) {
	if _, err := (codec.Codec{}).Marshal("not a message"); err == nil {
		t.Error("got no error marshalling a string")
	}
}
