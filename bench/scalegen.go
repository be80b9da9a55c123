package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/portico-gw/portico/catalog"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
)

// The generated catalog of the scale section: services of scalePerService
// methods each, every method one HTTP GET route with a literal prefix of
// its own and a path variable (/v1/s{S}/r{M}/{name}), all taking and
// returning the same small messages.
const (
	scalePackage    = "bench.scale.v1"
	scaleFile       = "bench/scale/v1/scale.proto"
	scalePerService = 1000
)

// scaleServices is how many services n routes take.
func scaleServices(n int) int { return (n + scalePerService - 1) / scalePerService }

// scaleRoute is the path of route i (0-based) with name as its variable.
func scaleRoute(i int, name string) string {
	return fmt.Sprintf("/v1/s%d/r%d/%s", i/scalePerService, i%scalePerService, name)
}

// scaleServiceName is the full name of service s.
func scaleServiceName(s int) string { return fmt.Sprintf("%s.S%d", scalePackage, s) }

// writeScaleSet writes a descriptor set of n routes (with the google.api
// files it imports) to path.
func writeScaleSet(path string, n int) error {
	str := func(name string, num int32) *descriptorpb.FieldDescriptorProto {
		return &descriptorpb.FieldDescriptorProto{Name: proto.String(name), Number: proto.Int32(num), JsonName: proto.String(name),
			Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(), Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum()}
	}
	f := &descriptorpb.FileDescriptorProto{
		Name: proto.String(scaleFile), Package: proto.String(scalePackage), Syntax: proto.String("proto3"),
		Dependency: []string{"google/api/annotations.proto"},
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: proto.String("Req"), Field: []*descriptorpb.FieldDescriptorProto{str("name", 1)}},
			{Name: proto.String("Resp"), Field: []*descriptorpb.FieldDescriptorProto{str("name", 1), str("value", 2)}},
		},
	}
	in, out := "."+scalePackage+".Req", "."+scalePackage+".Resp"
	for s := range scaleServices(n) {
		svc := &descriptorpb.ServiceDescriptorProto{Name: proto.String(fmt.Sprintf("S%d", s))}
		for m := range min(scalePerService, n-s*scalePerService) {
			opts := &descriptorpb.MethodOptions{}
			rule := &annotations.HttpRule{Pattern: &annotations.HttpRule_Get{Get: scaleRoute(s*scalePerService+m, "{name}")}}
			proto.SetExtension(opts, annotations.E_Http, rule)
			svc.Method = append(svc.Method, &descriptorpb.MethodDescriptorProto{
				Name: proto.String(fmt.Sprintf("M%d", m)), InputType: proto.String(in), OutputType: proto.String(out), Options: opts})
		}
		f.Service = append(f.Service, svc)
	}
	set := catalog.DescriptorSet(annotations.File_google_api_annotations_proto)
	set.File = append(set.File, f)
	data, err := proto.Marshal(set)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}

// scaleConfig is a Portico config serving the n generated routes through
// one grpc integration to backend, with an admin listener (reload).
func scaleConfig(set string, n int, backend string) string {
	var b strings.Builder
	b.WriteString("# Written by go run ./bench: a generated catalog.\n")
	b.WriteString("listen:\n  http: 127.0.0.1:0\n  grpc: 127.0.0.1:0\n  admin: 127.0.0.1:0\n")
	fmt.Fprintf(&b, "descriptors:\n  - %s\n", set)
	fmt.Fprintf(&b, "integrations:\n  - name: echo\n    grpc:\n      target: %s\n", backend)
	b.WriteString("apis:\n  - integration: echo\n    services:\n")
	for s := range scaleServices(n) {
		fmt.Fprintf(&b, "      - %s\n", scaleServiceName(s))
	}
	return b.String()
}
