package validate

import (
	"strings"

	"buf.build/go/protovalidate"
	"github.com/portico-gw/portico/catalog"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// updateMask locates a method's partial-update fields: the request's
// update_mask (a google.protobuf.FieldMask) and the resource field its
// paths are relative to (AIP-134): the field a binding's body names, or
// else the request's one other message field.
type updateMask struct {
	mask, resource protoreflect.FieldDescriptor
}

const fieldMaskName = "google.protobuf.FieldMask"

// updateMaskOf returns m's update mask fields, or nil when m is not a
// partial update.
func updateMaskOf(m *catalog.Method) *updateMask {
	in := m.Input().Descriptor()
	mask := in.Fields().ByName("update_mask")
	if mask == nil || mask.IsList() || mask.Message() == nil || mask.Message().FullName() != fieldMaskName {
		return nil
	}
	isResource := func(fd protoreflect.FieldDescriptor) bool {
		return fd != nil && fd != mask && fd.Message() != nil && !fd.IsList() && !fd.IsMap()
	}
	for _, b := range m.Bindings() {
		if b.Body != "" && b.Body != "*" && !strings.Contains(b.Body, ".") {
			if fd := in.Fields().ByName(protoreflect.Name(b.Body)); isResource(fd) {
				return &updateMask{mask: mask, resource: fd}
			}
		}
	}
	var only protoreflect.FieldDescriptor
	fields := in.Fields()
	for i := 0; i < fields.Len(); i++ {
		if fd := fields.Get(i); isResource(fd) {
			if only != nil {
				return nil // ambiguous: validate the whole request
			}
			only = fd
		}
	}
	if only == nil {
		return nil
	}
	return &updateMask{mask: mask, resource: only}
}

// maskNode is a field mask as a tree: all means the whole subtree is in
// the mask; otherwise only the fields listed are.
type maskNode struct {
	all    bool
	fields map[protoreflect.Name]*maskNode
}

// filter returns the protovalidate filter for req: rules are checked only
// for the resource's fields the mask names (and everything below them);
// message-level and oneof rules of a message only partly in the mask are
// skipped (they may read fields the update does not carry). The rest of
// the request is checked as usual. Nil means no filter: no mask, an empty
// one, "*", or no resource in the request.
func (u *updateMask) filter(req protoreflect.Message) protovalidate.Filter {
	if !req.Has(u.mask) || !req.Has(u.resource) {
		return nil
	}
	fm := req.Get(u.mask).Message()
	paths := fm.Get(fm.Descriptor().Fields().ByName("paths")).List()
	if paths.Len() == 0 {
		return nil
	}
	root := &maskNode{}
	for i := 0; i < paths.Len(); i++ {
		p := paths.Get(i).String()
		if p == "*" {
			return nil
		}
		n := root
		for _, seg := range strings.Split(p, ".") {
			if n.all {
				break
			}
			if n.fields == nil {
				n.fields = map[protoreflect.Name]*maskNode{}
			}
			child := n.fields[protoreflect.Name(seg)]
			if child == nil {
				child = &maskNode{}
				n.fields[protoreflect.Name(seg)] = child
			}
			n = child
		}
		n.all, n.fields = true, nil
	}
	// Each message of the resource the mask reaches into, by identity.
	nodes := map[any]*maskNode{}
	var walk func(m protoreflect.Message, n *maskNode)
	walk = func(m protoreflect.Message, n *maskNode) {
		nodes[m.Interface()] = n
		if n.all {
			return
		}
		for name, child := range n.fields {
			fd := m.Descriptor().Fields().ByName(name)
			if fd == nil || fd.Message() == nil || fd.IsList() || fd.IsMap() || !m.Has(fd) {
				continue
			}
			walk(m.Get(fd).Message(), child)
		}
	}
	walk(req.Get(u.resource).Message(), root)
	return protovalidate.FilterFunc(func(msg protoreflect.Message, d protoreflect.Descriptor) bool {
		n, ok := nodes[msg.Interface()]
		if !ok || n.all {
			return true // outside the resource, or wholly in the mask
		}
		if fd, ok := d.(protoreflect.FieldDescriptor); ok {
			_, in := n.fields[fd.Name()]
			return in
		}
		return false // message and oneof rules of a message partly in the mask
	})
}
