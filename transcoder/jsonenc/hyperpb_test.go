package jsonenc

import (
	"bytes"
	"testing"

	"buf.build/go/hyperpb"
	"github.com/portico-gw/portico/codec"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/dynamicpb"
)

// FuzzHyperpbAgrees: a message parsed by hyperpb (the fast read-only
// parser the gateway uses for backend responses of descriptor-only types)
// encodes to the same JSON as the same bytes parsed into dynamicpb.
func FuzzHyperpbAgrees(f *testing.F) {
	seed, _ := proto.Marshal(listResponse(3))
	f.Add(seed)
	e := New()
	sink, _, _ := kitchenDescs(f)
	f.Add(mapEntryPanic(sink))
	ht := hyperpb.CompileMessageDescriptor(sink)
	f.Fuzz(func(t *testing.T, data []byte) {
		d := dynamicpb.NewMessage(sink)
		if codec.Decode(data, d, 10000) != nil {
			return
		}
		h := hyperpb.NewMessage(ht)
		if err := codec.Decode(data, h, 10000); err != nil {
			// hyperpb refuses some inputs dynamicpb takes (unknown fields
			// with very large numbers); the gateway falls back to dynamicpb
			// for those.
			return
		}
		want, werr := e.Append(nil, d.ProtoReflect())
		got, gerr := e.Append(nil, h.ProtoReflect())
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("errors differ: dynamicpb %v, hyperpb %v", werr, gerr)
		}
		if werr == nil && !bytes.Equal(got, want) {
			t.Fatalf("JSON differs:\nhyperpb  %s\ndynamicpb %s", got, want)
		}
	})
}
