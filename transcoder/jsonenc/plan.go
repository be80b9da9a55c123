package jsonenc

import (
	"sync"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// wktKind identifies a message whose JSON form is not a plain object of its
// fields, either because it is a well-known type with a special mapping or
// because the encoder hands it to protojson.
type wktKind uint8

const (
	wktNone      wktKind = iota // an ordinary message: a JSON object of its fields
	wktFallback                 // encoded by protojson (Any, MessageSet)
	wktTimestamp                // google.protobuf.Timestamp: RFC 3339 string
	wktDuration                 // google.protobuf.Duration: "1.5s"
	wktWrapper                  // google.protobuf.*Value wrappers: the bare value
	wktStruct                   // google.protobuf.Struct: a JSON object
	wktListValue                // google.protobuf.ListValue: a JSON array
	wktValue                    // google.protobuf.Value: any JSON value
	wktFieldMask                // google.protobuf.FieldMask: "a.b,cD"
)

// shape is the cardinality of a field as the encoder sees it.
type shape uint8

const (
	shapeSingular shape = iota
	shapeList
	shapeMap
)

// messagePlan is everything the encoder needs to know about one message
// descriptor, computed once and cached.
type messagePlan struct {
	desc protoreflect.MessageDescriptor
	wkt  wktKind
	// fields holds one entry per field, indexed by declaration index, which
	// is also protojson's output order.
	fields []fieldPlan
	// extendable reports that the message declares extension ranges; a
	// message with a populated extension is handed to protojson.
	extendable bool
	// direct reports that the message itself has required fields or
	// extension ranges; needsCheck extends that to every message reachable
	// from it, and tells Append to run proto.CheckInitialized as protojson
	// does.
	direct     bool
	needsCheck bool
	// oneof is the kind oneof of google.protobuf.Value.
	oneof protoreflect.OneofDescriptor
	// valueIndex is the index of the "value" field of a wrapper type.
	valueIndex int
	// seconds and nanos are the fields of a Timestamp or Duration.
	seconds, nanos protoreflect.FieldDescriptor
}

// fieldPlan describes how to encode one field.
type fieldPlan struct {
	fd protoreflect.FieldDescriptor
	// name is the JSON name, quoted and followed by a colon.
	name  []byte
	shape shape
	// oneof reports membership of a oneof (real or synthetic): such a field
	// is written only when set.
	oneof bool
	// presence reports a singular field with presence: written as null when
	// unset.
	presence bool
	// val encodes the singular value, the list elements or the map values.
	val valuePlan
	// key is the map key kind.
	key protoreflect.Kind
}

// valuePlan describes how to encode one singular value.
type valuePlan struct {
	kind protoreflect.Kind
	fd   protoreflect.FieldDescriptor
	// null reports an enum of type google.protobuf.NullValue, always null.
	null bool
	enum *enumPlan
	msg  *messagePlan
}

// enumPlan holds the pre-quoted names of an enum's values.
type enumPlan struct {
	dense  [][]byte // by number, for small non-negative numbers
	sparse map[protoreflect.EnumNumber][]byte
}

// name returns the quoted name of number n, or nil when n has no name.
func (p *enumPlan) name(n protoreflect.EnumNumber) []byte {
	if n >= 0 && int64(n) < int64(len(p.dense)) {
		return p.dense[n]
	}
	return p.sparse[n]
}

// planCache maps message descriptors to their plans.
type planCache struct {
	plans sync.Map // protoreflect.MessageDescriptor -> *messagePlan
	mu    sync.Mutex
	enums map[protoreflect.EnumDescriptor]*enumPlan // guarded by mu
}

// get returns the plan for md, building it (and the plans of the messages
// it refers to) on first use.
func (c *planCache) get(md protoreflect.MessageDescriptor) *messagePlan {
	if p, ok := c.plans.Load(md); ok {
		return p.(*messagePlan)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.plans.Load(md); ok {
		return p.(*messagePlan)
	}
	if c.enums == nil {
		c.enums = make(map[protoreflect.EnumDescriptor]*enumPlan)
	}
	b := &planBuilder{cache: c, building: make(map[protoreflect.MessageDescriptor]*messagePlan)}
	p := b.message(md)
	for _, np := range b.order {
		np.needsCheck = reachesCheck(np, make(map[*messagePlan]bool))
	}
	for d, np := range b.building {
		c.plans.Store(d, np)
	}
	return p
}

// reachesCheck reports whether p or any message reachable from it needs
// the required-field check.
func reachesCheck(p *messagePlan, seen map[*messagePlan]bool) bool {
	if p.direct {
		return true
	}
	seen[p] = true
	for i := range p.fields {
		if sub := p.fields[i].val.msg; sub != nil && !seen[sub] && reachesCheck(sub, seen) {
			return true
		}
	}
	return false
}

// planBuilder builds the plans of a group of mutually referring messages
// under the cache lock.
type planBuilder struct {
	cache    *planCache
	building map[protoreflect.MessageDescriptor]*messagePlan
	order    []*messagePlan
}

func (b *planBuilder) message(md protoreflect.MessageDescriptor) *messagePlan {
	if p, ok := b.cache.plans.Load(md); ok {
		return p.(*messagePlan)
	}
	if p, ok := b.building[md]; ok {
		return p
	}
	p := &messagePlan{
		desc:       md,
		wkt:        wellKnownKind(md),
		extendable: md.ExtensionRanges().Len() > 0,
	}
	p.direct = p.extendable || md.RequiredNumbers().Len() > 0
	b.building[md] = p
	b.order = append(b.order, p)
	if p.wkt == wktFallback {
		// protojson walks the message; nothing below it is needed, but the
		// required-field check must still run as protojson would.
		p.direct = true
		return p
	}
	fds := md.Fields()
	p.fields = make([]fieldPlan, fds.Len())
	for i := range p.fields {
		p.fields[i] = b.field(fds.Get(i))
	}
	switch p.wkt {
	case wktValue:
		p.oneof = md.Oneofs().ByName("kind")
		if p.oneof == nil {
			p.wkt = wktNone
		}
	case wktTimestamp, wktDuration:
		p.seconds, p.nanos = fds.ByNumber(1), fds.ByNumber(2)
		if p.seconds == nil || p.nanos == nil {
			p.wkt = wktNone
		}
	case wktWrapper:
		if fd := fds.ByNumber(1); fd != nil {
			p.valueIndex = fd.Index()
		} else {
			p.wkt = wktNone
		}
	}
	return p
}

func (b *planBuilder) field(fd protoreflect.FieldDescriptor) fieldPlan {
	f := fieldPlan{
		fd:    fd,
		oneof: fd.ContainingOneof() != nil,
	}
	name, _ := appendString(nil, fd.JSONName())
	f.name = append(name, ':')
	switch {
	case fd.IsMap():
		f.shape = shapeMap
		f.key = fd.MapKey().Kind()
		f.val = b.value(fd.MapValue())
	case fd.IsList():
		f.shape = shapeList
		f.val = b.value(fd)
	default:
		f.shape = shapeSingular
		f.presence = fd.HasPresence()
		f.val = b.value(fd)
	}
	return f
}

func (b *planBuilder) value(fd protoreflect.FieldDescriptor) valuePlan {
	v := valuePlan{kind: fd.Kind(), fd: fd}
	switch v.kind {
	case protoreflect.EnumKind:
		ed := fd.Enum()
		if ed.FullName() == "google.protobuf.NullValue" {
			v.null = true
		} else {
			v.enum = b.enum(ed)
		}
	case protoreflect.MessageKind, protoreflect.GroupKind:
		v.msg = b.message(fd.Message())
	}
	return v
}

func (b *planBuilder) enum(ed protoreflect.EnumDescriptor) *enumPlan {
	if p, ok := b.cache.enums[ed]; ok {
		return p
	}
	p := &enumPlan{}
	vals := ed.Values()
	for i := 0; i < vals.Len(); i++ {
		vd := vals.Get(i)
		n := vd.Number()
		q, _ := appendString(nil, string(vd.Name()))
		switch {
		case n >= 0 && n < 256:
			for int(n) >= len(p.dense) {
				p.dense = append(p.dense, nil)
			}
			if p.dense[n] == nil { // the first alias wins, as ByNumber
				p.dense[n] = q
			}
		default:
			if p.sparse == nil {
				p.sparse = make(map[protoreflect.EnumNumber][]byte)
			}
			if _, dup := p.sparse[n]; !dup {
				p.sparse[n] = q
			}
		}
	}
	b.cache.enums[ed] = p
	return p
}

// wellKnownKind classifies md.
func wellKnownKind(md protoreflect.MessageDescriptor) wktKind {
	if ms, ok := md.(interface{ IsMessageSet() bool }); ok && ms.IsMessageSet() {
		return wktFallback
	}
	if md.FullName().Parent() != "google.protobuf" {
		return wktNone
	}
	switch md.Name() {
	case "Any":
		return wktFallback
	case "Timestamp":
		return wktTimestamp
	case "Duration":
		return wktDuration
	case "BoolValue", "Int32Value", "Int64Value", "UInt32Value", "UInt64Value",
		"FloatValue", "DoubleValue", "StringValue", "BytesValue":
		return wktWrapper
	case "Struct":
		return wktStruct
	case "ListValue":
		return wktListValue
	case "Value":
		return wktValue
	case "FieldMask":
		return wktFieldMask
	}
	// Empty has no special mapping: it is an object with no fields.
	return wktNone
}
