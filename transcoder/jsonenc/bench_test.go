package jsonenc

import (
	"testing"

	"google.golang.org/protobuf/proto"
)

// benchMessages are the benchmark inputs: a Book with every field set and
// a ListBooksResponse of ten such books.
func benchMessages() []struct {
	name string
	m    proto.Message
} {
	return []struct {
		name string
		m    proto.Message
	}{
		{"Book", fullBook(1)},
		{"ListBooksResponse10", listResponse(10)},
	}
}

// BenchmarkAppend measures Encoder.Append into a reused buffer.
func BenchmarkAppend(b *testing.B) {
	e := New()
	for _, bm := range benchMessages() {
		b.Run(bm.name, func(b *testing.B) {
			m := bm.m.ProtoReflect()
			buf, err := e.Append(nil, m)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if buf, err = e.Append(buf[:0], m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkProtojson measures protojson with the options Encoder mirrors,
// appending into a reused buffer.
func BenchmarkProtojson(b *testing.B) {
	for _, bm := range benchMessages() {
		b.Run(bm.name, func(b *testing.B) {
			buf, err := reference.MarshalAppend(nil, bm.m)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if buf, err = reference.MarshalAppend(buf[:0], bm.m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
