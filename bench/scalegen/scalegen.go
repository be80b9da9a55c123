// Package scalegen generates the large catalogs go run ./bench measures
// (issue 19, catalog scale): services of PerService methods each, every
// method one HTTP GET route with a literal prefix of its own and a path
// variable (/v1/s{S}/r{M}/{name}), all taking and returning the same small
// messages.
package scalegen

import (
	"fmt"
	"strings"

	"github.com/portico-gw/portico/catalog"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
)

// The generated file.
const (
	Package    = "bench.scale.v1"
	File       = "bench/scale/v1/scale.proto"
	PerService = 1000
)

// Services is how many services n routes take.
func Services(n int) int { return (n + PerService - 1) / PerService }

// Route is the path of route i (0-based) with name as its variable.
func Route(i int, name string) string {
	return fmt.Sprintf("/v1/s%d/r%d/%s", i/PerService, i%PerService, name)
}

// ServiceName is the full name of service s.
func ServiceName(s int) string { return fmt.Sprintf("%s.S%d", Package, s) }

// Set is a descriptor set of n routes, with the google.api files it
// imports.
func Set(n int) *descriptorpb.FileDescriptorSet {
	str := func(name string, num int32) *descriptorpb.FieldDescriptorProto {
		return &descriptorpb.FieldDescriptorProto{Name: proto.String(name), Number: proto.Int32(num), JsonName: proto.String(name),
			Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(), Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum()}
	}
	f := &descriptorpb.FileDescriptorProto{
		Name: proto.String(File), Package: proto.String(Package), Syntax: proto.String("proto3"),
		Dependency: []string{"google/api/annotations.proto"},
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: proto.String("Req"), Field: []*descriptorpb.FieldDescriptorProto{str("name", 1)}},
			{Name: proto.String("Resp"), Field: []*descriptorpb.FieldDescriptorProto{str("name", 1), str("value", 2)}},
		},
	}
	in, out := "."+Package+".Req", "."+Package+".Resp"
	for s := range Services(n) {
		svc := &descriptorpb.ServiceDescriptorProto{Name: proto.String(fmt.Sprintf("S%d", s))}
		for m := range min(PerService, n-s*PerService) {
			opts := &descriptorpb.MethodOptions{}
			rule := &annotations.HttpRule{Pattern: &annotations.HttpRule_Get{Get: Route(s*PerService+m, "{name}")}}
			proto.SetExtension(opts, annotations.E_Http, rule)
			svc.Method = append(svc.Method, &descriptorpb.MethodDescriptorProto{
				Name: proto.String(fmt.Sprintf("M%d", m)), InputType: proto.String(in), OutputType: proto.String(out), Options: opts})
		}
		f.Service = append(f.Service, svc)
	}
	set := catalog.DescriptorSet(annotations.File_google_api_annotations_proto)
	set.File = append(set.File, f)
	return set
}

// Config is a Portico config serving the n routes of the descriptor set
// at setPath through one grpc integration to backend, with an admin
// listener (reload); every listener on a loopback :0 port.
func Config(setPath string, n int, backend string) string {
	var b strings.Builder
	b.WriteString("# Written by go run ./bench: a generated catalog.\n")
	b.WriteString("listen:\n  http: 127.0.0.1:0\n  grpc: 127.0.0.1:0\n  admin: 127.0.0.1:0\n")
	fmt.Fprintf(&b, "descriptors:\n  - %s\n", setPath)
	fmt.Fprintf(&b, "integrations:\n  - name: echo\n    grpc:\n      target: %s\n", backend)
	b.WriteString("apis:\n  - integration: echo\n    services:\n")
	for s := range Services(n) {
		fmt.Fprintf(&b, "      - %s\n", ServiceName(s))
	}
	return b.String()
}
