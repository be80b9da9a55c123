package catalog

import (
	"strings"
	"sync"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"
)

// TypeResolver resolves message and extension types by name for JSON
// (google.protobuf.Any fields, error details): from the catalog's own
// descriptors first — with the generated Go type when one is linked in
// and describes the same file, dynamicpb otherwise — and from the types
// linked into the binary second. A type known only from a loaded
// descriptor set, or from discovery, resolves: protoregistry.GlobalTypes
// alone would not know it. It is safe for concurrent use.
type TypeResolver struct {
	files *protoregistry.Files // nil: only what is linked in
	ext   *dynamicpb.Types

	mu    sync.Mutex
	types *typeResolver
	cache sync.Map // protoreflect.FullName -> protoreflect.MessageType
}

var (
	_ protoregistry.MessageTypeResolver   = (*TypeResolver)(nil)
	_ protoregistry.ExtensionTypeResolver = (*TypeResolver)(nil)
)

func newTypeResolverFor(files *protoregistry.Files, types *typeResolver) *TypeResolver {
	r := &TypeResolver{types: types}
	if files != nil && files != protoregistry.GlobalFiles {
		r.files = files
		r.ext = dynamicpb.NewTypes(files)
	}
	return r
}

// FindMessageByName finds a message type by its full name.
func (r *TypeResolver) FindMessageByName(name protoreflect.FullName) (protoreflect.MessageType, error) {
	if mt, ok := r.cache.Load(name); ok {
		return mt.(protoreflect.MessageType), nil
	}
	if r.files != nil {
		if d, err := r.files.FindDescriptorByName(name); err == nil {
			if md, ok := d.(protoreflect.MessageDescriptor); ok {
				r.mu.Lock()
				mt, err := r.types.messageType(md)
				r.mu.Unlock()
				if err == nil {
					r.cache.Store(name, mt)
					return mt, nil
				}
			}
		}
	}
	return protoregistry.GlobalTypes.FindMessageByName(name)
}

// FindMessageByURL finds a message type by a type URL
// ("type.googleapis.com/package.Message").
func (r *TypeResolver) FindMessageByURL(url string) (protoreflect.MessageType, error) {
	name := url
	if i := strings.LastIndexByte(url, '/'); i >= 0 {
		name = url[i+1:]
	}
	return r.FindMessageByName(protoreflect.FullName(name))
}

// FindExtensionByName finds an extension by its full name.
func (r *TypeResolver) FindExtensionByName(field protoreflect.FullName) (protoreflect.ExtensionType, error) {
	if r.ext != nil {
		if xt, err := r.ext.FindExtensionByName(field); err == nil {
			return xt, nil
		}
	}
	return protoregistry.GlobalTypes.FindExtensionByName(field)
}

// FindExtensionByNumber finds an extension of a message by field number.
func (r *TypeResolver) FindExtensionByNumber(message protoreflect.FullName, field protoreflect.FieldNumber) (protoreflect.ExtensionType, error) {
	if r.ext != nil {
		if xt, err := r.ext.FindExtensionByNumber(message, field); err == nil {
			return xt, nil
		}
	}
	return protoregistry.GlobalTypes.FindExtensionByNumber(message, field)
}
