package catalog

// The google.api.http options a descriptor set's methods keep as bytes
// (rawrules.go) against the parsed options they replace.

import (
	"slices"
	"testing"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// richRule has every part a rule can have.
func richRule() *annotations.HttpRule {
	return &annotations.HttpRule{
		Pattern:      &annotations.HttpRule_Post{Post: "/v1/pings/{text}:send"},
		Body:         "*",
		ResponseBody: "text",
		AdditionalBindings: []*annotations.HttpRule{
			{Pattern: &annotations.HttpRule_Get{Get: "/v1/pings/{text}"}},
			{Pattern: &annotations.HttpRule_Custom{Custom: &annotations.CustomHttpPattern{Kind: "SEARCH", Path: "/v1/pings"}}, Body: "text"},
		},
	}
}

// sameAsParsed checks the method loaded with its rule as bytes (fast)
// against the one loaded with it parsed (slow): the rule the catalog
// reads, and the descriptor server reflection sends (read back by a
// client with the annotations linked in).
func sameAsParsed(t *testing.T, fast, slow protoreflect.MethodDescriptor) {
	t.Helper()
	gotRule, err := annotationRule(fast)
	if err != nil {
		t.Fatalf("annotationRule (bytes): %v", err)
	}
	wantRule, err := annotationRule(slow)
	if err != nil {
		t.Fatalf("annotationRule (parsed): %v", err)
	}
	if !proto.Equal(gotRule, wantRule) {
		t.Errorf("rule: got %v, want %v", gotRule, wantRule)
	}
	sent := func(md protoreflect.MethodDescriptor) *descriptorpb.FileDescriptorProto {
		b, err := proto.Marshal(protodesc.ToFileDescriptorProto(md.ParentFile()))
		if err != nil {
			t.Fatal(err)
		}
		out := &descriptorpb.FileDescriptorProto{}
		if err := proto.Unmarshal(b, out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got, want := sent(fast), sent(slow); !proto.Equal(got, want) {
		t.Errorf("reflection's file: got %v, want %v", got, want)
	}
}

func TestRawHTTPRuleMatchesParsed(t *testing.T) {
	richFile := func() *descriptorpb.FileDescriptorProto {
		fdp := annotatedFile(richRule(), false)
		opts := fdp.Service[0].Method[0].Options
		opts.Deprecated = proto.Bool(true)
		opts.IdempotencyLevel = descriptorpb.MethodOptions_NO_SIDE_EFFECTS.Enum()
		return fdp
	}
	files, err := LoadSourcesWith("", []string{writeSet(t, richFile())}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	fast, err := files.FindDescriptorByName("portico.test.v1.PingService.Ping")
	if err != nil {
		t.Fatal(err)
	}
	fmd := fast.(protoreflect.MethodDescriptor)
	// The fast path is taken: the loaded option holds the rule as bytes.
	if proto.HasExtension(fmd.Options(), annotations.E_Http) || len(fmd.Options().ProtoReflect().GetUnknown()) == 0 {
		t.Fatal("loaded method: want its google.api.http option as bytes")
	}
	slow := registry(t, richFile())
	smd, err := slow.FindDescriptorByName("portico.test.v1.PingService.Ping")
	if err != nil {
		t.Fatal(err)
	}
	sameAsParsed(t, fmd, smd.(protoreflect.MethodDescriptor))
	got := fmd.Options().(*descriptorpb.MethodOptions)
	if !got.GetDeprecated() || got.GetIdempotencyLevel() != descriptorpb.MethodOptions_NO_SIDE_EFFECTS {
		t.Errorf("other options: got %v, want deprecated and NO_SIDE_EFFECTS kept", got)
	}

	// The catalogs built on either bind the same routes.
	bind := func(files *protoregistry.Files) []string {
		c := mustNew(t, Options{Files: files, APIs: []API{{Where: "apis[0]", Services: []string{"portico.test.v1.PingService"}, Backend: &fakeBackend{}}}})
		return describe(c.Method("/portico.test.v1.PingService/Ping").Bindings())
	}
	if got, want := bind(files), bind(slow); !slices.Equal(got, want) || len(want) != 3 {
		t.Errorf("bindings: got %v, want %v (three)", got, want)
	}
}

// FuzzRawHTTPRule holds rules of any content kept as bytes against the
// same rules parsed.
func FuzzRawHTTPRule(f *testing.F) {
	f.Add("/v1/pings/{text}", "*", "text", "/v1/x", "SEARCH", true)
	f.Add("", "", "", "", "", false)
	f.Add("/v1/{text=a/*}/b:c", "text", "", "/\xff", "", true)
	f.Fuzz(func(t *testing.T, path, body, responseBody, extraPath, kind string, nested bool) {
		rule := func() *annotations.HttpRule {
			r := &annotations.HttpRule{Pattern: &annotations.HttpRule_Get{Get: path}, Body: body, ResponseBody: responseBody}
			extra := &annotations.HttpRule{Pattern: &annotations.HttpRule_Custom{Custom: &annotations.CustomHttpPattern{Kind: kind, Path: extraPath}}}
			if nested {
				extra.AdditionalBindings = []*annotations.HttpRule{{Pattern: &annotations.HttpRule_Delete{Delete: extraPath}}}
			}
			r.AdditionalBindings = []*annotations.HttpRule{extra}
			return r
		}
		if _, err := proto.Marshal(rule()); err != nil {
			t.Skip() // not valid UTF-8: no set can hold it
		}
		raw := annotatedFile(rule(), false)
		if err := keepHTTPRulesRaw(raw); err != nil {
			t.Fatal(err)
		}
		fast := registry(t, raw)
		slow := registry(t, annotatedFile(rule(), false))
		fmd, err := fast.FindDescriptorByName("portico.test.v1.PingService.Ping")
		if err != nil {
			t.Fatal(err)
		}
		smd, err := slow.FindDescriptorByName("portico.test.v1.PingService.Ping")
		if err != nil {
			t.Fatal(err)
		}
		sameAsParsed(t, fmd.(protoreflect.MethodDescriptor), smd.(protoreflect.MethodDescriptor))
	})
}

// TestRawHTTPRuleTwiceMerges: an option given twice in the bytes merges,
// as parsing the options does.
func TestRawHTTPRuleTwiceMerges(t *testing.T) {
	num := protowire.Number(annotations.E_Http.TypeDescriptor().Number())
	var raw []byte
	for _, r := range []*annotations.HttpRule{
		{Pattern: &annotations.HttpRule_Get{Get: "/v1/a"}, ResponseBody: "text"},
		{Body: "*", AdditionalBindings: []*annotations.HttpRule{{Pattern: &annotations.HttpRule_Get{Get: "/v1/b"}}}},
	} {
		b, err := proto.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		raw = protowire.AppendBytes(protowire.AppendTag(raw, num, protowire.BytesType), b)
	}
	fdp := annotatedFile(nil, false)
	fdp.Service[0].Method[0].Options.ProtoReflect().SetUnknown(raw)
	md, err := registry(t, fdp).FindDescriptorByName("portico.test.v1.PingService.Ping")
	if err != nil {
		t.Fatal(err)
	}
	got, err := annotationRule(md.(protoreflect.MethodDescriptor))
	if err != nil {
		t.Fatal(err)
	}
	parsed := &descriptorpb.MethodOptions{}
	if err := proto.Unmarshal(raw, parsed); err != nil {
		t.Fatal(err)
	}
	want := proto.GetExtension(parsed, annotations.E_Http).(*annotations.HttpRule)
	if !proto.Equal(got, want) || want.GetBody() != "*" || want.GetGet() != "/v1/a" {
		t.Errorf("rule: got %v, want %v (both parts)", got, want)
	}
}
