package webprotocols

import (
	"fmt"

	"github.com/portico-gw/portico/catalog"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// vanguard registers a REST route for every method's google.api.http
// rule, and refuses rules its own parser does not read (grpc-gateway's
// verbs after a variable, say) — while it never serves REST here. So it
// is given the services without their HTTP rules: for each file, a copy
// with the same path and package holding only its services, each method
// with no option but the one vanguard reads (idempotency_level: a
// NO_SIDE_EFFECTS method takes Connect's GET). The copy's methods take
// and return the catalog's own message descriptors (a file resolves its
// own path's names through the registry), so no message is copied.
//
// Before issue 19 the copy was the whole file (protodesc.ToFileDescriptorProto
// with the rules cleared): every method's options cloned twice, a fifth of
// a large catalog's build and a second set of options held per route.
func schemas(cat *catalog.Catalog) ([]protoreflect.ServiceDescriptor, error) {
	files := map[string]protoreflect.FileDescriptor{}
	out := make([]protoreflect.ServiceDescriptor, 0, len(cat.Services()))
	for _, sd := range cat.Services() {
		f := sd.ParentFile()
		nf, ok := files[f.Path()]
		if !ok {
			var err error
			if nf, err = protodesc.NewFile(servicesOnly(f), cat.Files()); err != nil {
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

// servicesOnly is the copy of f that schemas gives vanguard.
func servicesOnly(f protoreflect.FileDescriptor) *descriptorpb.FileDescriptorProto {
	fdp := &descriptorpb.FileDescriptorProto{Name: proto.String(f.Path()), Syntax: proto.String("proto3")}
	if f.Package() != "" {
		fdp.Package = proto.String(string(f.Package()))
	}
	imported := map[string]bool{f.Path(): true}
	typeName := func(md protoreflect.MessageDescriptor) *string {
		if p := md.ParentFile().Path(); !imported[p] {
			imported[p] = true
			fdp.Dependency = append(fdp.Dependency, p)
		}
		return proto.String("." + string(md.FullName()))
	}
	services := f.Services()
	for i := range services.Len() {
		sd := services.Get(i)
		sdp := &descriptorpb.ServiceDescriptorProto{Name: proto.String(string(sd.Name()))}
		methods := sd.Methods()
		sdp.Method = make([]*descriptorpb.MethodDescriptorProto, methods.Len())
		for j := range methods.Len() {
			md := methods.Get(j)
			mdp := &descriptorpb.MethodDescriptorProto{Name: proto.String(string(md.Name())),
				InputType: typeName(md.Input()), OutputType: typeName(md.Output())}
			if md.IsStreamingClient() {
				mdp.ClientStreaming = proto.Bool(true)
			}
			if md.IsStreamingServer() {
				mdp.ServerStreaming = proto.Bool(true)
			}
			if opts, _ := md.Options().(*descriptorpb.MethodOptions); opts != nil && opts.IdempotencyLevel != nil {
				mdp.Options = &descriptorpb.MethodOptions{IdempotencyLevel: opts.IdempotencyLevel}
			}
			sdp.Method[j] = mdp
		}
		fdp.Service = append(fdp.Service, sdp)
	}
	return fdp
}
