// Package openapi describes a catalog's REST routes as an OpenAPI v3.1
// document, built from the live descriptors when a snapshot is built (so
// it is always what the gateway serves): every HTTP binding with its path
// and query parameters, request and response schemas as the proto3 JSON
// mapping writes them, buf.validate rules as JSON Schema keywords,
// comments from the descriptors' source info as descriptions, security
// schemes from the auth config, streaming noted.
//
// The document model and its validation are kin-openapi's; what is
// written here is the mapping from descriptors and HTTP rules, which no
// library does at run time (protoc-gen-openapiv2 does it at build time,
// for Swagger 2, from .proto sources).
package openapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/portico-gw/portico/catalog"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Options describe the document.
type Options struct {
	// Title is info.title. Default "Portico".
	Title string
	// Version is info.version. Default "1".
	Version string
	// Description is info.description.
	Description string
	// Config gives the security schemes (auth.providers) and which
	// operations need them (apis[].auth, apis[].methods[].auth). Nil: no
	// security.
	Config *configv1.Config
}

// Extensions Portico adds to operations and parameters.
const (
	// ExtGRPCMethod is the gRPC method an operation calls.
	ExtGRPCMethod = "x-portico-grpc-method"
	// ExtStreaming is "client", "server" or "bidi" for streaming methods.
	ExtStreaming = "x-portico-streaming"
	// ExtField is the request field a parameter sets, when the parameter
	// is named otherwise.
	ExtField = "x-portico-field"
	// ExtMultiSegment marks a path parameter whose value spans several
	// segments: its "/" must not be escaped.
	ExtMultiSegment = "x-portico-multi-segment"
	// ExtOmitted lists, on the document, bindings OpenAPI cannot show (a
	// custom HTTP method).
	ExtOmitted = "x-portico-omitted"
)

// Build describes cat's HTTP bindings.
func Build(cat *catalog.Catalog, opts Options) (*openapi3.T, error) {
	if opts.Title == "" {
		opts.Title = "Portico"
	}
	if opts.Version == "" {
		opts.Version = "1"
	}
	doc := &openapi3.T{
		OpenAPI:    "3.1.0",
		Info:       &openapi3.Info{Title: opts.Title, Version: opts.Version, Description: opts.Description},
		Paths:      openapi3.NewPaths(),
		Components: &openapi3.Components{Schemas: openapi3.Schemas{}},
	}
	b := &builder{
		sch:   &schemas{components: doc.Components.Schemas},
		names: pathNames{},
	}
	if schemes := securitySchemes(opts.Config.GetAuth()); len(schemes) > 0 {
		doc.Components.SecuritySchemes = schemes
		b.sec = newSecurityOf(opts.Config, schemes)
	} else {
		b.sec = newSecurityOf(opts.Config, nil)
	}
	b.status = b.sch.message(statuspb.File_google_rpc_status_proto.Messages().ByName("Status"))

	for _, sd := range cat.Services() {
		doc.Tags = append(doc.Tags, &openapi3.Tag{Name: string(sd.FullName()), Description: comments(sd)})
	}
	var omitted []string
	for _, m := range cat.MethodList() {
		for i, bd := range m.Bindings() {
			if !standardMethod(bd.HTTPMethod) {
				omitted = append(omitted, bd.HTTPMethod+" "+bd.Template.Raw)
				continue
			}
			path, op, err := b.operation(m, bd, i)
			if err != nil {
				return nil, fmt.Errorf("method %s: %s %s: %v", m.Desc().FullName(), bd.HTTPMethod, bd.Template.Raw, err)
			}
			op.Servers = hostServers(m.API())
			item := doc.Paths.Value(path)
			if item == nil {
				item = &openapi3.PathItem{}
				doc.Paths.Set(path, item)
			}
			item.SetOperation(bd.HTTPMethod, op)
		}
	}
	if len(omitted) > 0 {
		doc.Extensions = map[string]any{ExtOmitted: omitted}
	}
	return doc, nil
}

// JSON renders doc.
func JSON(doc *openapi3.T) ([]byte, error) { return json.Marshal(doc) }

// standardMethod reports the HTTP methods an OpenAPI 3.1 path item has a
// field for.
func standardMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete, http.MethodPatch,
		http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

type builder struct {
	sch    *schemas
	sec    *securityOf
	names  pathNames
	status *openapi3.SchemaRef // google.rpc.Status: the error body
}

// operation describes one binding (the n-th of m).
func (b *builder) operation(m *catalog.Method, bd *catalog.Binding, n int) (string, *openapi3.Operation, error) {
	path, vars := openAPIPath(bd.Template)
	path, vars = b.names.unify(path, vars)
	in := m.Desc().Input()

	op := openapi3.NewOperation()
	op.OperationID = string(m.Desc().FullName())
	if n > 0 {
		op.OperationID += fmt.Sprintf("_%d", n+1)
	}
	op.Tags = []string{string(m.Desc().Parent().FullName())}
	desc := comments(m.Desc())
	op.Summary = summary(desc)
	notes := []string{}
	if desc != "" {
		notes = append(notes, desc)
	}
	op.Extensions = map[string]any{ExtGRPCMethod: m.FullMethod()}
	switch {
	case m.Desc().IsStreamingClient() && m.Desc().IsStreamingServer():
		op.Extensions[ExtStreaming] = "bidi"
	case m.Desc().IsStreamingClient():
		op.Extensions[ExtStreaming] = "client"
	case m.Desc().IsStreamingServer():
		op.Extensions[ExtStreaming] = "server"
	}
	if m.Desc().IsStreamingClient() {
		notes = append(notes, "Client streaming: the request body is a sequence of JSON request messages, read until the end of the body.")
	}
	if m.Desc().IsStreamingServer() {
		notes = append(notes, "Server streaming: the response is newline-delimited JSON, one `{\"result\": message}` object per message, and `{\"error\": status}` if the stream fails after it started.")
	}

	// Path parameters.
	bound := map[string]bool{}
	for _, v := range vars {
		p := openapi3.NewPathParameter(v.name)
		var sc *openapi3.SchemaRef
		switch {
		case v.field == "":
			sc = scalar(openapi3.TypeString, "")
		case v.part:
			fd, err := fieldAt(in, v.field)
			if err != nil {
				return "", nil, err
			}
			bound[v.field] = true
			sc = scalar(openapi3.TypeString, "")
			p.Extensions = map[string]any{ExtField: v.field}
			p.Description = "A segment of {" + v.variable + "}: the request's " + v.field + " is the whole text."
			if d := describeField(fd); d != "" {
				p.Description += "\n\n" + d
			}
		default:
			fd, err := fieldAt(in, v.field)
			if err != nil {
				return "", nil, err
			}
			bound[v.field] = true
			sc = b.sch.paramSchema(fd)
			p.Description = describeField(fd)
			if v.name != v.field {
				p.Extensions = map[string]any{ExtField: v.field}
				p.Description = strings.TrimSpace("Sets " + v.field + ". " + p.Description)
			}
		}
		if v.pattern != "" {
			sc = withPattern(sc, v.pattern)
		}
		if v.multi {
			if p.Extensions == nil {
				p.Extensions = map[string]any{}
			}
			p.Extensions[ExtMultiSegment] = true
		}
		p.Schema = sc
		op.AddParameter(p)
	}

	// Request body, and query parameters for the fields left.
	switch bd.Body {
	case "":
	case "*":
		op.RequestBody = &openapi3.RequestBodyRef{Value: b.body(in, nil)}
	default:
		fd, err := fieldAt(in, bd.Body)
		if err != nil {
			return "", nil, err
		}
		op.RequestBody = &openapi3.RequestBodyRef{Value: b.body(nil, fd)}
		bound[bd.Body] = true
	}
	if bd.Body != "*" {
		b.queryParams(op, in, "", "", bound, map[protoreflect.FullName]bool{})
	}

	// Responses.
	resp := &openapi3.Response{}
	okDesc := "The response message."
	out := m.Desc().Output()
	switch {
	case bd.ResponseBody != "":
		fd, err := fieldAt(out, bd.ResponseBody)
		if err != nil {
			return "", nil, err
		}
		okDesc = "The response's " + bd.ResponseBody + " field."
		resp.Content = openapi3.NewContentWithJSONSchemaRef(b.sch.field(fd))
	case isHTTPBody(out) && !m.Desc().IsStreamingServer():
		okDesc = "The raw response body, with the content type the backend chose."
		resp.Content = openapi3.Content{"*/*": &openapi3.MediaType{}}
	case m.Desc().IsStreamingServer():
		okDesc = "A stream of response messages (newline-delimited JSON)."
		resp.Content = openapi3.NewContentWithJSONSchemaRef(b.streamItem(b.sch.message(out)))
	default:
		resp.Content = openapi3.NewContentWithJSONSchemaRef(b.sch.message(out))
	}
	resp.Description = &okDesc
	errDesc := "An error: a google.rpc.Status, with the HTTP status its code maps to."
	op.Responses = openapi3.NewResponsesWithCapacity(2)
	op.Responses.Set("200", &openapi3.ResponseRef{Value: resp})
	op.Responses.Set("default", &openapi3.ResponseRef{Value: &openapi3.Response{
		Description: &errDesc,
		Content:     openapi3.NewContentWithJSONSchemaRef(b.status),
	}})

	if reqs, note := b.sec.requirements(m); len(reqs) > 0 || note != "" {
		if len(reqs) > 0 {
			op.Security = &reqs
		}
		if note != "" {
			notes = append(notes, note)
		}
	}
	op.Description = strings.Join(notes, "\n\n")
	return path, op, nil
}

// streamItem is one line of a server stream: a result or an error.
func (b *builder) streamItem(msg *openapi3.SchemaRef) *openapi3.SchemaRef {
	obj := func(key string, v *openapi3.SchemaRef) *openapi3.SchemaRef {
		return openapi3.NewSchemaRef("", &openapi3.Schema{
			Type:       &openapi3.Types{openapi3.TypeObject},
			Properties: openapi3.Schemas{key: v},
			Required:   []string{key},
		})
	}
	return openapi3.NewSchemaRef("", &openapi3.Schema{OneOf: openapi3.SchemaRefs{obj("result", msg), obj("error", b.status)}})
}

// body is a request body: the whole message (fd nil) or one field.
func (b *builder) body(md protoreflect.MessageDescriptor, fd protoreflect.FieldDescriptor) *openapi3.RequestBody {
	rb := &openapi3.RequestBody{Required: true}
	switch {
	case fd == nil && isHTTPBody(md):
		rb.Content = openapi3.Content{"*/*": &openapi3.MediaType{}}
	case fd == nil:
		rb.Content = openapi3.NewContentWithJSONSchemaRef(b.sch.message(md))
	case fd.Message() != nil && isHTTPBody(fd.Message()) && !fd.IsList():
		rb.Content = openapi3.Content{"*/*": &openapi3.MediaType{}}
		rb.Description = "The raw body, stored in " + string(fd.Name()) + " with its content type."
	default:
		rb.Content = openapi3.NewContentWithJSONSchemaRef(b.sch.field(fd))
		rb.Description = "The " + string(fd.Name()) + " field of the request."
	}
	return rb
}

// maxQueryDepth bounds how deep nested message fields become query
// parameters (a.b.c.d).
const maxQueryDepth = 4

// queryParams adds a query parameter for each field of md that the path
// and body do not set, nested message fields as dotted names (JSON names;
// the door takes proto names too). Maps and messages with no text form
// (Struct, Any, ...) cannot be set from a query and are left out.
func (b *builder) queryParams(op *openapi3.Operation, md protoreflect.MessageDescriptor, prefix, protoPrefix string, bound map[string]bool, seen map[protoreflect.FullName]bool) {
	seen[md.FullName()] = true
	defer delete(seen, md.FullName())
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		protoPath := protoPrefix + string(fd.Name())
		if bound[protoPath] || fd.IsMap() {
			continue
		}
		name := prefix + fd.JSONName()
		if fd.Message() != nil && !queryScalar(fd.Message()) {
			if fd.IsList() || seen[fd.Message().FullName()] || strings.Count(name, ".") >= maxQueryDepth-1 || wellKnown(fd.Message()) != nil {
				continue
			}
			b.queryParams(op, fd.Message(), name+".", protoPath+".", bound, seen)
			continue
		}
		p := openapi3.NewQueryParameter(name)
		p.Description = describeField(fd)
		p.Schema = b.sch.paramSchema(fd)
		op.AddParameter(p)
	}
}

// queryScalar reports the message types a query parameter (or path
// variable) can hold as text: timestamps, durations, field masks,
// wrappers.
func queryScalar(md protoreflect.MessageDescriptor) bool {
	switch md.FullName() {
	case "google.protobuf.Timestamp", "google.protobuf.Duration", "google.protobuf.FieldMask",
		"google.protobuf.DoubleValue", "google.protobuf.FloatValue", "google.protobuf.Int64Value",
		"google.protobuf.UInt64Value", "google.protobuf.Int32Value", "google.protobuf.UInt32Value",
		"google.protobuf.BoolValue", "google.protobuf.StringValue", "google.protobuf.BytesValue":
		return true
	}
	return false
}

// paramSchema is the schema of a parameter setting fd: its value (or
// values, for a repeated field) with its rules, never null.
func (s *schemas) paramSchema(fd protoreflect.FieldDescriptor) *openapi3.SchemaRef {
	rules := fieldRules(fd)
	one := s.single(fd, false)
	if fd.IsList() {
		if ir := rules.GetRepeated().GetItems(); ir != nil && !ignored(ir) {
			one = constrain(one, fd, ir)
		}
		sc := &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeArray}, Items: one}
		applyRepeatedRules(sc, rules)
		return openapi3.NewSchemaRef("", sc)
	}
	if rules != nil && !ignored(rules) {
		return constrain(one, fd, rules)
	}
	return one
}

// withPattern adds the template's pattern to a parameter's schema.
func withPattern(ref *openapi3.SchemaRef, pattern string) *openapi3.SchemaRef {
	if ref.Ref == "" && ref.Value.Pattern == "" {
		sc := copySchema(ref.Value)
		sc.Pattern = pattern
		return openapi3.NewSchemaRef("", sc)
	}
	return openapi3.NewSchemaRef("", &openapi3.Schema{AllOf: openapi3.SchemaRefs{ref, openapi3.NewSchemaRef("", &openapi3.Schema{Pattern: pattern})}})
}

// fieldAt resolves a dotted field path of proto names in md.
func fieldAt(md protoreflect.MessageDescriptor, path string) (protoreflect.FieldDescriptor, error) {
	var fd protoreflect.FieldDescriptor
	for i, name := range strings.Split(path, ".") {
		if i > 0 {
			if fd.Message() == nil {
				return nil, fmt.Errorf("field path %q: %s is not a message", path, fd.Name())
			}
			md = fd.Message()
		}
		if fd = md.Fields().ByName(protoreflect.Name(name)); fd == nil {
			return nil, fmt.Errorf("field path %q: no field %q in %s", path, name, md.FullName())
		}
	}
	return fd, nil
}

// summary is a description's first sentence (or line).
func summary(desc string) string {
	line, _, _ := strings.Cut(desc, "\n\n")
	line = strings.Join(strings.Fields(line), " ")
	if i := strings.Index(line, ". "); i >= 0 {
		line = line[:i+1]
	}
	return line
}
