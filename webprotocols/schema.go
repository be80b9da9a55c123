package webprotocols

import (
	"fmt"

	"github.com/portico-gw/portico/catalog"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// vanguard registers a REST route for every method's google.api.http
// rule, and refuses rules its own parser does not read (grpc-gateway's
// verbs after a variable, say) — while it never serves REST here. So it
// is given the services without their HTTP rules: a copy of each file
// with the rules cleared (messages are resolved by name through the
// catalog's types, so the copy's own message descriptors are not used).
func schemas(cat *catalog.Catalog) ([]protoreflect.ServiceDescriptor, error) {
	files := map[string]protoreflect.FileDescriptor{}
	out := make([]protoreflect.ServiceDescriptor, 0, len(cat.Services()))
	for _, sd := range cat.Services() {
		f := sd.ParentFile()
		nf, ok := files[f.Path()]
		if !ok {
			fdp := protodesc.ToFileDescriptorProto(f)
			for _, s := range fdp.GetService() {
				for _, m := range s.GetMethod() {
					if m.Options != nil && proto.HasExtension(m.Options, annotations.E_Http) {
						proto.ClearExtension(m.Options, annotations.E_Http)
					}
				}
			}
			var err error
			if nf, err = protodesc.NewFile(fdp, cat.Files()); err != nil {
				return nil, fmt.Errorf("%s: %v", f.Path(), err)
			}
			files[f.Path()] = nf
		}
		copied := nf.Services().ByName(sd.Name())
		if copied == nil {
			return nil, fmt.Errorf("%s: service %s not found in its copy", f.Path(), sd.FullName())
		}
		out = append(out, copied)
	}
	return out, nil
}
