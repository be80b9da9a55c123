package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"github.com/portico-gw/portico/catalog"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	inventoryv1 "github.com/portico-gw/portico/gen/example/inventory/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// exposedServices are the services Portico exposes: the same two APIs the
// reference registers.
var exposedServices = []protoreflect.FileDescriptor{
	bookstorev1.File_example_bookstore_v1_bookstore_proto,
	inventoryv1.File_example_inventory_v1_inventory_proto,
}

// gatewayConfig is one Portico config the benchmark writes: a REST and a
// gRPC door on loopback :0 ports, and both services behind one grpc
// integration to the backend. The integration sets no timeout, as the
// reference sets no deadline: both gateways then do the same work per
// call.
type gatewayConfig struct {
	// name is the config's file name in the run's folder; its descriptor
	// set is written beside it as name + ".binpb".
	name string
	// descriptors: the services' descriptors, with their imports, are
	// written to a descriptor set and listed under descriptors; otherwise
	// Portico uses its compiled-in descriptors.
	descriptors bool
	// stripRules removes the buf.validate rules from the descriptor set:
	// the gateway then validates nothing (the chain's bare call).
	stripRules bool
	// admin adds an admin listener on a loopback :0 port (metrics,
	// reload, profiles).
	admin bool
	// flags are added to bench/gateway's command line (-variant).
	flags []string
	// top is YAML added at the top level; api is YAML added to the apis
	// entry (each line indented by four spaces).
	top, api string
}

// write writes the config into dir and returns its path.
func (g gatewayConfig) write(dir, backend string) (string, error) {
	var b strings.Builder
	b.WriteString("# Written by go run ./bench.\n")
	b.WriteString("listen:\n  http: 127.0.0.1:0\n  grpc: 127.0.0.1:0\n")
	if g.admin {
		b.WriteString("  admin: 127.0.0.1:0\n")
	}
	if g.descriptors {
		set := g.name + ".binpb"
		if err := writeDescriptorSet(filepath.Join(dir, set), g.stripRules); err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "descriptors:\n  - %s\n", set)
	}
	b.WriteString(g.top)
	fmt.Fprintf(&b, "integrations:\n  - name: bookstore\n    grpc:\n      target: %s\n", backend)
	b.WriteString("apis:\n  - integration: bookstore\n    services:\n")
	for _, fd := range exposedServices {
		for i := 0; i < fd.Services().Len(); i++ {
			fmt.Fprintf(&b, "      - %s\n", fd.Services().Get(i).FullName())
		}
	}
	b.WriteString(g.api)
	path := filepath.Join(dir, g.name+".yaml")
	return path, os.WriteFile(path, []byte(b.String()), 0o600)
}

// writeDescriptorSet writes the exposed services' files and everything they
// import, dependencies first (protoc --include_imports), to path; with
// stripRules, without their buf.validate rules.
func writeDescriptorSet(path string, stripRules bool) error {
	set := catalog.DescriptorSet(exposedServices...)
	if stripRules {
		for _, f := range set.GetFile() {
			stripValidation(f.GetMessageType())
		}
	}
	data, err := proto.Marshal(set)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}

// stripValidation clears the buf.validate options of msgs and their nested
// messages.
func stripValidation(msgs []*descriptorpb.DescriptorProto) {
	for _, m := range msgs {
		if m.Options != nil {
			proto.ClearExtension(m.Options, validate.E_Message)
		}
		for _, f := range m.GetField() {
			if f.Options != nil {
				proto.ClearExtension(f.Options, validate.E_Field)
			}
		}
		for _, o := range m.GetOneofDecl() {
			if o.Options != nil {
				proto.ClearExtension(o.Options, validate.E_Oneof)
			}
		}
		stripValidation(m.GetNestedType())
	}
}
