package jsonenc

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	inventoryv1 "github.com/portico-gw/portico/gen/example/inventory/v1"
	messagingv1 "github.com/portico-gw/portico/gen/example/messaging/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
)

// rounds is how many random messages each differential test encodes per
// message type.
const rounds = 150

// generatedFiles are the example and config APIs.
var generatedFiles = []protoreflect.FileDescriptor{
	bookstorev1.File_example_bookstore_v1_bookstore_proto,
	messagingv1.File_example_messaging_v1_messaging_proto,
	inventoryv1.File_example_inventory_v1_inventory_proto,
	configv1.File_portico_config_v1_config_proto,
}

// wellKnownTypes are the well-known types, encoded standalone.
var wellKnownTypes = []proto.Message{
	&timestamppb.Timestamp{}, &durationpb.Duration{}, &anypb.Any{},
	&structpb.Struct{}, &structpb.Value{}, &structpb.ListValue{},
	&fieldmaskpb.FieldMask{}, &emptypb.Empty{},
	&wrapperspb.Int64Value{}, &wrapperspb.UInt64Value{}, &wrapperspb.Int32Value{},
	&wrapperspb.UInt32Value{}, &wrapperspb.BoolValue{}, &wrapperspb.StringValue{},
	&wrapperspb.BytesValue{}, &wrapperspb.FloatValue{}, &wrapperspb.DoubleValue{},
}

// TestGeneratedMessages encodes every generated example message, filled
// at random, as its generated type and as a dynamicpb message unmarshalled
// from the generated message's bytes.
func TestGeneratedMessages(t *testing.T) {
	e := New()
	var count, failed int
	for _, fd := range generatedFiles {
		for _, md := range messagesOf(fd) {
			mt, err := protoregistry.GlobalTypes.FindMessageByName(md.FullName())
			if err != nil {
				t.Fatalf("%s: %v", md.FullName(), err)
			}
			t.Run(string(md.FullName()), func(t *testing.T) {
				for i := 0; i < rounds; i++ {
					f := &filler{r: rand.New(rand.NewPCG(uint64(i), 1)), invalid: i%3 == 0, unset: float64(i%4) / 4}
					m := mt.New()
					if i > 0 {
						f.fill(m, 0)
					}
					if diff(t, e, m.Interface()) {
						failed++
					}
					count++
					raw, err := proto.Marshal(m.Interface())
					if err != nil {
						continue // invalid UTF-8 in a proto3 string
					}
					dm := dynamicpb.NewMessage(md)
					if err := proto.Unmarshal(raw, dm); err != nil {
						t.Fatalf("unmarshal into dynamicpb: %v", err)
					}
					if diff(t, e, dm) {
						failed++
					}
					count++
				}
			})
		}
	}
	t.Logf("%d messages compared, %d of them errors in both", count, failed)
}

// TestWellKnownTypes encodes the well-known types standalone, filled at
// random, including their invalid forms.
func TestWellKnownTypes(t *testing.T) {
	e := New()
	for _, wk := range wellKnownTypes {
		md := wk.ProtoReflect().Descriptor()
		t.Run(string(md.Name()), func(t *testing.T) {
			for i := 0; i < rounds*2; i++ {
				m := wk.ProtoReflect().Type().New()
				if i > 0 {
					f := &filler{r: rand.New(rand.NewPCG(uint64(i), 2)), invalid: i%2 == 0, unset: 0.2}
					f.fill(m, 0)
				}
				diff(t, e, m.Interface())
				dm := dynamicpb.NewMessage(md)
				if raw, err := protoMarshal(m.Interface()); err == nil {
					if err := protoUnmarshal(raw, dm); err == nil {
						diff(t, e, dm)
					}
				}
			}
		})
	}
}

// TestKitchenSink encodes the dynamic kitchen-sink messages, which cover
// every scalar and map key kind, oneofs, proto3 optional, enum aliases and
// negative numbers, json_name, the well-known types as fields, proto2
// defaults, required fields, groups and extensions.
func TestKitchenSink(t *testing.T) {
	sink, legacy, exts := kitchenDescs(t)
	e := New()
	var count, failed int
	for _, md := range []protoreflect.MessageDescriptor{sink, legacy} {
		for i := 0; i < rounds*4; i++ {
			f := &filler{r: rand.New(rand.NewPCG(uint64(i), 3)), invalid: i%3 == 0, unset: float64(i%5) / 5}
			m := dynamicpb.NewMessage(md)
			if i > 0 {
				f.fill(m, 0)
			}
			if md == legacy && i%2 == 1 {
				m.Set(exts[0].TypeDescriptor(), protoreflect.ValueOfString(f.str()))
				if i%4 == 1 {
					child := dynamicpb.NewMessage(legacy)
					child.Set(legacy.Fields().ByName("req"), protoreflect.ValueOfInt64(1))
					m.Set(exts[1].TypeDescriptor(), protoreflect.ValueOfMessage(child))
				}
			}
			if diff(t, e, m) {
				failed++
			}
			count++
		}
	}
	t.Logf("%d messages compared, %d of them errors in both", count, failed)
}

// TestFileDescriptorProto encodes descriptor protos: large, nested, proto2,
// with extensions set in their options (google.api.http, buf.validate).
func TestFileDescriptorProto(t *testing.T) {
	e := New()
	for _, fd := range generatedFiles {
		fdp := protodesc.ToFileDescriptorProto(fd)
		diff(t, e, fdp)
		raw, err := proto.Marshal(fdp)
		if err != nil {
			t.Fatal(err)
		}
		dm := dynamicpb.NewMessage(fdp.ProtoReflect().Descriptor())
		if err := (proto.UnmarshalOptions{Resolver: protoregistry.GlobalTypes}).Unmarshal(raw, dm); err != nil {
			t.Fatal(err)
		}
		diff(t, e, dm)
	}
	diff(t, e, protodesc.ToFileDescriptorProto(descriptorpb.File_google_protobuf_descriptor_proto))
	for i := 0; i < rounds; i++ {
		f := &filler{r: rand.New(rand.NewPCG(uint64(i), 4)), invalid: i%2 == 0, unset: 0.6}
		m := &descriptorpb.FileDescriptorProto{}
		f.fill(m.ProtoReflect(), 0)
		diff(t, e, m)
	}
}

// TestExtensionFallback checks that a message with a populated extension
// (google.api.http in MethodOptions) goes through the protojson fallback
// and still matches.
func TestExtensionFallback(t *testing.T) {
	fdp := protodesc.ToFileDescriptorProto(bookstorev1.File_example_bookstore_v1_bookstore_proto)
	got, err := New().Append(nil, fdp.ProtoReflect())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(got), `"[google.api.http]":{`) {
		t.Fatalf("no google.api.http extension in output: %.300s", got)
	}
	diff(t, New(), fdp)
}

// TestEdgeCases pins specific values.
func TestEdgeCases(t *testing.T) {
	e := New()
	sink, legacy, _ := kitchenDescs(t)
	negZero := math.Copysign(0, -1)
	book := func(mut func(*bookstorev1.Book)) proto.Message {
		b := &bookstorev1.Book{}
		mut(b)
		return b
	}
	cases := []struct {
		name    string
		m       proto.Message
		wantErr bool
	}{
		{"empty", &bookstorev1.Book{}, false},
		{"empty message type", &bookstorev1.ListShelvesRequest{}, false},
		{"typed nil", (*bookstorev1.Book)(nil), false},
		{"typed nil well-known", (*timestamppb.Timestamp)(nil), false},
		{"empty list vs set", &bookstorev1.Book{Tags: []string{}}, false},
		{"list of empty string", &bookstorev1.Book{Tags: []string{""}}, false},
		{"full book", fullBook(1), false},
		{"list response", listResponse(10), false},
		{"escapes", book(func(b *bookstorev1.Book) {
			b.Title = "\"\\/\b\f\n\r\t\x00\x01\x1f\x7f<>&\u2028\u2029😀\ufffd"
		}), false},
		{"invalid utf8", book(func(b *bookstorev1.Book) { b.Title = "a\xffb" }), true},
		{"invalid utf8 in list", book(func(b *bookstorev1.Book) { b.Tags = []string{"ok", "\xc0"} }), true},
		{"unknown enum", book(func(b *bookstorev1.Book) { b.Genre = 99 }), false},
		{"negative enum", book(func(b *bookstorev1.Book) { b.Genre = -3 }), false},
		{"int64 extremes", &bookstorev1.ListShelvesResponse{Shelves: []*bookstorev1.Shelf{
			{Id: math.MaxInt64}, {Id: math.MinInt64}, {Id: 0}, {Id: -1}}}, false},
		{"wrappers", &structpb.ListValue{}, false},
		{"int64 wrapper", wrapperspb.Int64(math.MinInt64), false},
		{"uint64 wrapper", wrapperspb.UInt64(math.MaxUint64), false},
		{"float wrapper 0.1", wrapperspb.Float(0.1), false},
		{"float wrapper 1e21", wrapperspb.Float(1e21), false},
		{"float wrapper 1e-7", wrapperspb.Float(1e-7), false},
		{"double wrapper NaN", wrapperspb.Double(math.NaN()), false},
		{"double wrapper -Inf", wrapperspb.Double(math.Inf(-1)), false},
		{"double wrapper -0", wrapperspb.Double(negZero), false},
		{"double wrapper 1e21", wrapperspb.Double(1e21), false},
		{"double wrapper 1e20", wrapperspb.Double(1e20), false},
		{"double wrapper 1e-7", wrapperspb.Double(1e-7), false},
		{"double wrapper 1e-6", wrapperspb.Double(1e-6), false},
		{"bytes wrapper", wrapperspb.Bytes([]byte{0xff, 0, 1, 2, 0xfe}), false},
		{"string wrapper invalid", wrapperspb.String("\xff"), true},
		{"timestamp zero", &timestamppb.Timestamp{}, false},
		{"timestamp min", &timestamppb.Timestamp{Seconds: minTimestampSeconds}, false},
		{"timestamp max", &timestamppb.Timestamp{Seconds: maxTimestampSeconds, Nanos: 999999999}, false},
		{"timestamp millis", &timestamppb.Timestamp{Seconds: 1, Nanos: 5e8}, false},
		{"timestamp micros", &timestamppb.Timestamp{Seconds: 1, Nanos: 1000}, false},
		{"timestamp nanos", &timestamppb.Timestamp{Seconds: -1, Nanos: 1}, false},
		{"timestamp too late", &timestamppb.Timestamp{Seconds: maxTimestampSeconds + 1}, true},
		{"timestamp bad nanos", &timestamppb.Timestamp{Nanos: -1}, true},
		{"duration negative", &durationpb.Duration{Seconds: -5, Nanos: -500}, false},
		{"duration sub-second negative", &durationpb.Duration{Nanos: -1e6}, false},
		{"duration max", &durationpb.Duration{Seconds: maxDurationSeconds, Nanos: maxNanos}, false},
		{"duration sign mismatch", &durationpb.Duration{Seconds: 1, Nanos: -1}, true},
		{"duration too long", &durationpb.Duration{Seconds: maxDurationSeconds + 1}, true},
		{"field mask", &fieldmaskpb.FieldMask{Paths: []string{"foo_bar.baz_qux", "a"}}, false},
		{"field mask irreversible", &fieldmaskpb.FieldMask{Paths: []string{"fooBar"}}, true},
		{"field mask invalid", &fieldmaskpb.FieldMask{Paths: []string{"a..b"}}, true},
		{"value unset", &structpb.Value{}, true},
		{"value NaN", structpb.NewNumberValue(math.NaN()), true},
		{"value null", structpb.NewNullValue(), false},
		{"struct", mustStruct(map[string]any{"b": true, "a": []any{1.5, "x", nil}, "c": map[string]any{"z": "\u2028"}}), false},
		{"any book", mustAny(fullBook(2)), false},
		{"any timestamp", mustAny(timestamppb.New(timestamppb.Now().AsTime())), false},
		{"any empty", &anypb.Any{}, false},
		{"any unresolvable", &anypb.Any{TypeUrl: "type.googleapis.com/nope.Nope"}, true},
		{"any missing url", &anypb.Any{Value: []byte{1}}, true},
		{"empty", &emptypb.Empty{}, false},
		{"kitchen empty", dynamicpb.NewMessage(sink), false},
		{"legacy empty (missing required)", dynamicpb.NewMessage(legacy), true},
		{"legacy defaults", legacyWith(legacy, "req", protoreflect.ValueOfInt64(3)), false},
		{"kitchen -0 float", kitchenWith(sink, "fl", protoreflect.ValueOfFloat32(float32(negZero))), false},
		{"kitchen float 0.1", kitchenWith(sink, "fl", protoreflect.ValueOfFloat32(0.1)), false},
		{"kitchen float 1e21", kitchenWith(sink, "fl", protoreflect.ValueOfFloat32(1e21)), false},
		{"kitchen float 1e-7", kitchenWith(sink, "fl", protoreflect.ValueOfFloat32(1e-7)), false},
		{"kitchen double -0", kitchenWith(sink, "db", protoreflect.ValueOfFloat64(negZero)), false},
		{"kitchen alias enum", kitchenWith(sink, "color", protoreflect.ValueOfEnum(1)), false},
		{"kitchen edge enum", kitchenWith(sink, "color", protoreflect.ValueOfEnum(255)), false},
		{"kitchen past-edge enum", kitchenWith(sink, "color", protoreflect.ValueOfEnum(256)), false},
		{"kitchen negative enum", kitchenWith(sink, "color", protoreflect.ValueOfEnum(-5)), false},
		{"kitchen big enum", kitchenWith(sink, "color", protoreflect.ValueOfEnum(100000)), false},
		{"kitchen proto3 optional zero", kitchenWith(sink, "opt_i32", protoreflect.ValueOfInt32(0)), false},
		{"kitchen oneof zero", kitchenWith(sink, "o_s", protoreflect.ValueOfString("")), false},
		{"kitchen null value", kitchenWith(sink, "null", protoreflect.ValueOfEnum(7)), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			failed := diff(t, e, c.m)
			if failed != c.wantErr {
				t.Fatalf("error = %v, want error %v", failed, c.wantErr)
			}
		})
	}
}

// TestNil checks that a nil message encodes as {}, as protojson does.
func TestNil(t *testing.T) {
	got, err := New().Append(nil, nil)
	if err != nil || string(got) != "{}" {
		t.Fatalf("Append(nil) = %s, %v", got, err)
	}
}

// TestConcurrent shares one Encoder between goroutines (run with -race).
func TestConcurrent(t *testing.T) {
	e := New()
	sink, _, _ := kitchenDescs(t)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				f := &filler{r: rand.New(rand.NewPCG(uint64(g), uint64(i))), unset: 0.3}
				m := dynamicpb.NewMessage(sink)
				f.fill(m, 0)
				if _, err := e.Append(nil, m); err != nil && !isExpected(err) {
					t.Error(err)
				}
				if _, err := e.Append(nil, listResponse(3).ProtoReflect()); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
}

// TestCompact checks the whitespace compactor used for fallbacks.
func TestCompact(t *testing.T) {
	in := "xx{ \"a b\" :\t[1, 2 ,\n\"\\\" \"],\r\"c\\\\\": \" \" }"
	want := `xx{"a b":[1,2,"\" "],"c\\":" "}`
	if got := string(compact([]byte(in), 2)); got != want {
		t.Fatalf("compact = %s, want %s", got, want)
	}
}

func isExpected(error) bool { return true } // random values may be invalid

func mustStruct(v map[string]any) *structpb.Struct {
	s, err := structpb.NewStruct(v)
	if err != nil {
		panic(err)
	}
	return s
}

func mustAny(m proto.Message) *anypb.Any {
	a, err := anypb.New(m)
	if err != nil {
		panic(err)
	}
	return a
}

func kitchenWith(md protoreflect.MessageDescriptor, field string, v protoreflect.Value) proto.Message {
	m := dynamicpb.NewMessage(md)
	m.Set(md.Fields().ByName(protoreflect.Name(field)), v)
	return m
}

func legacyWith(md protoreflect.MessageDescriptor, field string, v protoreflect.Value) proto.Message {
	return kitchenWith(md, field, v)
}

func protoMarshal(m proto.Message) ([]byte, error) { return proto.Marshal(m) }

func protoUnmarshal(b []byte, m proto.Message) error { return proto.Unmarshal(b, m) }

// fullBook returns a Book with every field set.
func fullBook(i int) *bookstorev1.Book {
	return &bookstorev1.Book{
		Name:        fmt.Sprintf("shelves/%d/books/%d", i%7+1, i),
		Title:       fmt.Sprintf("The \"Book\" of Things, Volume %d", i),
		Author:      "Ada Lovelace",
		Genre:       bookstorev1.Genre_GENRE_SCIENCE,
		PublishTime: &timestamppb.Timestamp{Seconds: 1700000000 + int64(i), Nanos: 123000000},
		Tags:        []string{"classic", "science", "computing"},
		PageCount:   wrapperspb.Int32(int32(300 + i)),
		TopReview:   &bookstorev1.Review{Reviewer: "Charles Babbage", Stars: 5},
	}
}

// listResponse returns a ListBooksResponse holding n full books.
func listResponse(n int) *bookstorev1.ListBooksResponse {
	r := &bookstorev1.ListBooksResponse{}
	for i := 0; i < n; i++ {
		r.Books = append(r.Books, fullBook(i))
	}
	return r
}
