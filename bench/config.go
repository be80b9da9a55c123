package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/portico-gw/portico/catalog"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	inventoryv1 "github.com/portico-gw/portico/gen/example/inventory/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// exposedServices are the services Portico exposes: the same two APIs the
// reference registers.
var exposedServices = []protoreflect.FileDescriptor{
	bookstorev1.File_example_bookstore_v1_bookstore_proto,
	inventoryv1.File_example_inventory_v1_inventory_proto,
}

// writeConfig writes Portico's config for the benchmark into dir and
// returns its path: a REST and a gRPC door on loopback :0 ports, no admin
// listener, and both services behind one grpc integration to backend.
// The integration sets no timeout, as the reference sets no deadline:
// both gateways then do the same work per call.
//
// When withDescriptors is set (cmd/portico does not link the inventory's
// generated code), the services' descriptors, with their imports, are
// written to a descriptor set beside the config and listed under
// descriptors; otherwise Portico uses its compiled-in descriptors.
func writeConfig(dir, backend string, withDescriptors bool) (string, error) {
	var b strings.Builder
	b.WriteString("# Written by go run ./bench.\n")
	b.WriteString("listen:\n  http: 127.0.0.1:0\n  grpc: 127.0.0.1:0\n")
	if withDescriptors {
		if err := writeDescriptorSet(filepath.Join(dir, "apis.binpb")); err != nil {
			return "", err
		}
		b.WriteString("descriptors:\n  - apis.binpb\n")
	}
	fmt.Fprintf(&b, "integrations:\n  - name: bookstore\n    grpc:\n      target: %s\n", backend)
	b.WriteString("apis:\n  - integration: bookstore\n    services:\n")
	for _, fd := range exposedServices {
		for i := 0; i < fd.Services().Len(); i++ {
			fmt.Fprintf(&b, "      - %s\n", fd.Services().Get(i).FullName())
		}
	}
	path := filepath.Join(dir, "portico.yaml")
	return path, os.WriteFile(path, []byte(b.String()), 0o600)
}

// writeDescriptorSet writes the exposed services' files and everything they
// import, dependencies first (protoc --include_imports), to path.
func writeDescriptorSet(path string) error {
	set := catalog.DescriptorSet(exposedServices...)
	data, err := proto.Marshal(set)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}
