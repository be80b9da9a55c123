package jsonenc

import (
	"math"
	"math/rand/v2"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// filler populates messages with random, edge-heavy values through
// protoreflect, so one routine serves generated and dynamic messages alike.
type filler struct {
	r *rand.Rand
	// invalid allows values protojson refuses (invalid UTF-8, out-of-range
	// timestamps, unset Values, bad field masks, unresolvable Anys).
	invalid bool
	// unset is the probability of leaving a field unset.
	unset float64
}

var specialStrings = []string{
	"", "a", "hello world", `quote " and backslash \`, "\x00\x01\x1f\x7f",
	"\b\f\n\r\t", "<script>&amp;</script>", "\u2028\u2029", "emoji 😀🎉",
	"é ü 中文", "\ufffd", "/slash/", "\u00a0", "\x1b[0m",
}

var specialDoubles = []float64{
	0, math.Copysign(0, -1), 1, -1, 0.1, 1e21, 1e20, 1e-7, 1e-6, 9.99e-7,
	123456789.125, 5e-324, math.MaxFloat64, -math.MaxFloat64, math.NaN(),
	math.Inf(1), math.Inf(-1), 1.5e300, 100, 1e100, 12345678901234567890,
}

var specialFloats = []float32{
	0, 0.1, -0.1, 1e21, 1e20, 1e-7, 1e-6, 3.4028235e38, 1.4e-45, 16777217,
	0.3, 1.0 / 3, float32(math.Inf(1)), float32(math.NaN()),
}

func (f *filler) intn(n int) int { return f.r.IntN(n) }

func (f *filler) str() string {
	var b strings.Builder
	for n := f.intn(3); n >= 0; n-- {
		if f.intn(2) == 0 {
			b.WriteString(specialStrings[f.intn(len(specialStrings))])
		} else {
			for k := f.intn(6); k >= 0; k-- {
				b.WriteRune(rune(0x20 + f.intn(0x5f)))
			}
		}
	}
	if f.invalid && f.intn(40) == 0 {
		b.WriteString("\xff\xfe")
	}
	return b.String()
}

func (f *filler) int64() int64 {
	switch f.intn(6) {
	case 0:
		return math.MaxInt64
	case 1:
		return math.MinInt64
	case 2:
		return 0
	case 3:
		return -1
	}
	return f.r.Int64() >> uint(f.intn(63))
}

func (f *filler) uint64() uint64 {
	switch f.intn(4) {
	case 0:
		return math.MaxUint64
	case 1:
		return 0
	}
	return f.r.Uint64() >> uint(f.intn(63))
}

func (f *filler) double() float64 {
	if f.intn(2) == 0 {
		return specialDoubles[f.intn(len(specialDoubles))]
	}
	return (f.r.Float64() - 0.5) * math.Pow(10, float64(f.intn(60)-30))
}

func (f *filler) float() float32 {
	if f.intn(2) == 0 {
		return specialFloats[f.intn(len(specialFloats))]
	}
	return float32((f.r.Float64() - 0.5) * math.Pow(10, float64(f.intn(50)-25)))
}

// scalar returns a random value of fd's (non-message) kind.
func (f *filler) scalar(fd protoreflect.FieldDescriptor) protoreflect.Value {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(f.intn(2) == 0)
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(int32(f.int64()))
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(f.int64())
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(uint32(f.uint64()))
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(f.uint64())
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(f.float())
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(f.double())
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(f.str())
	case protoreflect.BytesKind:
		b := make([]byte, f.intn(12))
		for i := range b {
			b[i] = byte(f.intn(256))
		}
		return protoreflect.ValueOfBytes(b)
	case protoreflect.EnumKind:
		vals := fd.Enum().Values()
		if f.intn(5) == 0 || vals.Len() == 0 {
			return protoreflect.ValueOfEnum(protoreflect.EnumNumber(f.intn(400) - 20))
		}
		return protoreflect.ValueOfEnum(vals.Get(f.intn(vals.Len())).Number())
	}
	panic("scalar of kind " + fd.Kind().String())
}

// value returns a random value for fd, making new messages with newMsg.
func (f *filler) value(fd protoreflect.FieldDescriptor, newMsg func() protoreflect.Value, depth int) protoreflect.Value {
	if fd.Message() == nil {
		return f.scalar(fd)
	}
	v := newMsg()
	f.fill(v.Message(), depth+1)
	return v
}

// fill populates m with random values, to a limited depth.
func (f *filler) fill(m protoreflect.Message, depth int) {
	md := m.Descriptor()
	if md.FullName().Parent() == "google.protobuf" && f.wellKnown(m, depth) {
		return
	}
	fds := md.Fields()
	for i := 0; i < fds.Len(); i++ {
		fd := fds.Get(i)
		required := fd.Cardinality() == protoreflect.Required && !(f.invalid && f.intn(4) == 0)
		if !required && f.r.Float64() < f.unset {
			continue
		}
		if fd.Message() != nil && depth >= 3 && !required {
			continue
		}
		switch {
		case fd.IsMap():
			mp := m.Mutable(fd).Map()
			for n := f.intn(4); n > 0; n-- {
				k := f.scalar(fd.MapKey()).MapKey()
				mp.Set(k, f.value(fd.MapValue(), mp.NewValue, depth))
			}
		case fd.IsList():
			l := m.Mutable(fd).List()
			for n := f.intn(4); n > 0; n-- {
				l.Append(f.value(fd, l.NewElement, depth))
			}
		default:
			m.Set(fd, f.value(fd, func() protoreflect.Value { return m.NewField(fd) }, depth))
		}
	}
}

// wellKnown fills the well-known types with mostly valid values, reporting
// whether it handled m.
func (f *filler) wellKnown(m protoreflect.Message, depth int) bool {
	md := m.Descriptor()
	fds := md.Fields()
	set := func(name string, v protoreflect.Value) { m.Set(fds.ByName(protoreflect.Name(name)), v) }
	switch md.Name() {
	case "Timestamp":
		secs := f.r.Int64N(maxTimestampSeconds-minTimestampSeconds) + minTimestampSeconds
		if f.invalid && f.intn(30) == 0 {
			secs = maxTimestampSeconds + 1
		}
		set("seconds", protoreflect.ValueOfInt64(secs))
		set("nanos", protoreflect.ValueOfInt32(f.nanos()))
	case "Duration":
		secs := f.r.Int64N(2*maxDurationSeconds+1) - maxDurationSeconds
		nanos := f.nanos()
		if secs < 0 || (secs == 0 && f.intn(2) == 0) {
			nanos = -nanos
		}
		if f.invalid && f.intn(30) == 0 {
			nanos = -nanos
		}
		set("seconds", protoreflect.ValueOfInt64(secs>>uint(f.intn(40))))
		set("nanos", protoreflect.ValueOfInt32(nanos))
	case "Any":
		if f.intn(6) == 0 {
			return true // the empty Any
		}
		var inner proto.Message
		var url string
		if f.intn(3) == 0 {
			inner = timestamppb.New(timestamppb.Now().AsTime())
			url = "type.googleapis.com/google.protobuf.Timestamp"
		} else {
			b := &bookstorev1.Book{}
			(&filler{r: f.r, unset: 0.3}).fill(b.ProtoReflect(), depth+1)
			inner, url = b, "type.googleapis.com/example.bookstore.v1.Book"
		}
		if f.invalid && f.intn(10) == 0 {
			url = "type.googleapis.com/no.such.Type"
		}
		raw, _ := proto.MarshalOptions{Deterministic: true}.Marshal(inner)
		set("type_url", protoreflect.ValueOfString(url))
		set("value", protoreflect.ValueOfBytes(raw))
	case "Value":
		if f.invalid && f.intn(30) == 0 {
			return true // no kind set: an error
		}
		od := md.Oneofs().ByName("kind")
		choice := od.Fields().Get(f.intn(od.Fields().Len()))
		if depth >= 3 && choice.Message() != nil {
			choice = od.Fields().ByName("string_value")
		}
		switch choice.Kind() {
		case protoreflect.DoubleKind:
			d := f.double()
			for !f.invalid && (math.IsNaN(d) || math.IsInf(d, 0)) {
				d = f.double()
			}
			m.Set(choice, protoreflect.ValueOfFloat64(d))
		case protoreflect.EnumKind:
			m.Set(choice, protoreflect.ValueOfEnum(0))
		default:
			m.Set(choice, f.value(choice, func() protoreflect.Value { return m.NewField(choice) }, depth))
		}
	case "FieldMask":
		paths := []string{"a", "foo_bar", "foo.bar_baz", "x1.y_z", "a_b_c"}
		if f.invalid {
			paths = append(paths, "fooBar", "1bad", "a__b", "a_", "")
		}
		l := m.Mutable(fds.ByName("paths")).List()
		for n := f.intn(4); n > 0; n-- {
			l.Append(protoreflect.ValueOfString(paths[f.intn(len(paths))]))
		}
	default:
		return false
	}
	return true
}

func (f *filler) nanos() int32 {
	switch f.intn(4) {
	case 0:
		return 0
	case 1:
		return int32(f.intn(1000)) * 1e6
	case 2:
		return int32(f.intn(1e6)) * 1e3
	}
	return int32(f.intn(1e9))
}
