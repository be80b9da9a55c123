package jsonenc

import (
	"bytes"
	"encoding/json"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// reference is the protojson configuration Encoder mirrors.
var reference = protojson.MarshalOptions{EmitUnpopulated: true}

// diff encodes m with e and with protojson and reports a mismatch: both
// must fail, or both succeed with byte-identical output once protojson's
// whitespace is compacted. It returns whether protojson failed.
func diff(t testing.TB, e *Encoder, m proto.Message) (failed bool) {
	t.Helper()
	want, werr := reference.Marshal(m)
	prefix := []byte("prefix:")
	got, gerr := e.Append(append([]byte(nil), prefix...), m.ProtoReflect())
	if werr != nil || gerr != nil {
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("%s: error mismatch: protojson %v, jsonenc %v\nprotojson: %s\njsonenc:   %s",
				m.ProtoReflect().Descriptor().FullName(), werr, gerr, want, got)
		}
		return true
	}
	if !bytes.HasPrefix(got, prefix) {
		t.Fatalf("Append clobbered dst: %q", got)
	}
	got = got[len(prefix):]
	var buf bytes.Buffer
	if err := json.Compact(&buf, want); err != nil {
		t.Fatalf("compacting protojson output: %v\n%s", err, want)
	}
	if !bytes.Equal(buf.Bytes(), got) {
		t.Fatalf("%s: output mismatch\nprotojson: %s\njsonenc:   %s",
			m.ProtoReflect().Descriptor().FullName(), buf.Bytes(), got)
	}
	return false
}

// messagesOf returns every message declared in fd, nested ones included,
// except map entries.
func messagesOf(fd protoreflect.FileDescriptor) []protoreflect.MessageDescriptor {
	var out []protoreflect.MessageDescriptor
	var walk func(protoreflect.MessageDescriptors)
	walk = func(mds protoreflect.MessageDescriptors) {
		for i := 0; i < mds.Len(); i++ {
			md := mds.Get(i)
			if md.IsMapEntry() {
				continue
			}
			out = append(out, md)
			walk(md.Messages())
		}
	}
	walk(fd.Messages())
	return out
}
