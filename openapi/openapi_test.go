package openapi_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/portico-gw/portico/catalog"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/openapi"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	_ "github.com/portico-gw/portico/gen/example/bookstore/v1"
	_ "github.com/portico-gw/portico/gen/example/inventory/v1"
)

type nopBackend struct{}

func (nopBackend) Unary(context.Context, *catalog.Method, proto.Message) (proto.Message, error) {
	return nil, nil
}
func (nopBackend) Stream(context.Context, *catalog.Method, grpc.ServerStream) error { return nil }

// bookstore is the compiled-in bookstore (and inventory) catalog, with
// default bindings.
func bookstore(t *testing.T) *catalog.Catalog { return bookstoreWith(t, nil) }

// bookstoreWith is bookstore whose API has the settings of cfg's first
// apis[] entry (auth and its overrides), as a snapshot's catalog has.
func bookstoreWith(t *testing.T, cfg *configv1.Config) *catalog.Catalog {
	t.Helper()
	var settings *configv1.Api
	if len(cfg.GetApis()) > 0 {
		settings = cfg.GetApis()[0]
	}
	cat, err := catalog.New(catalog.Options{APIs: []catalog.API{{
		Where:           "apis[0]",
		Services:        []string{"example.bookstore.v1.BookstoreService", "example.inventory.v1.InventoryService"},
		Backend:         nopBackend{},
		BackendName:     "bookstore",
		DefaultBindings: true,
		Settings:        settings,
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// load renders doc and loads it back with kin-openapi, which validates it
// as an OpenAPI 3.1 document: what a consumer of /openapi.json does.
func load(t *testing.T, doc *openapi3.T) *openapi3.T {
	t.Helper()
	b, err := openapi.JSON(doc)
	if err != nil {
		t.Fatal(err)
	}
	loader := openapi3.NewLoader()
	out, err := loader.LoadFromData(b)
	if err != nil {
		t.Fatalf("loading the document: %v", err)
	}
	if err := out.Validate(loader.Context); err != nil {
		t.Fatalf("the document is not valid OpenAPI: %v", err)
	}
	return out
}

func build(t *testing.T, cat *catalog.Catalog, cfg *configv1.Config) *openapi3.T {
	t.Helper()
	doc, err := openapi.Build(cat, openapi.Options{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	return load(t, doc)
}

func op(t *testing.T, doc *openapi3.T, method, path string) *openapi3.Operation {
	t.Helper()
	item := doc.Paths.Value(path)
	if item == nil {
		t.Fatalf("no path %s in %v", path, doc.Paths.InMatchingOrder())
	}
	o := item.GetOperation(method)
	if o == nil {
		t.Fatalf("no %s %s", method, path)
	}
	return o
}

func param(t *testing.T, o *openapi3.Operation, in, name string) *openapi3.Parameter {
	t.Helper()
	p := o.Parameters.GetByInAndName(in, name)
	if p == nil {
		t.Fatalf("operation %s: no %s parameter %q", o.OperationID, in, name)
	}
	return p
}

func component(t *testing.T, doc *openapi3.T, name string) *openapi3.Schema {
	t.Helper()
	s, ok := doc.Components.Schemas[name]
	if !ok {
		t.Fatalf("no component schema %s", name)
	}
	return s.Value
}

// jsonOf renders a schema for comparisons and messages.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestBookstoreDocumentIsValid(t *testing.T) {
	doc := build(t, bookstore(t), nil)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi: got %q, want 3.1.0", doc.OpenAPI)
	}
	var ops int
	for _, item := range doc.Paths.Map() {
		ops += len(item.Operations())
	}
	var bindings int
	for _, m := range bookstore(t).MethodList() {
		bindings += len(m.Bindings())
	}
	if ops != bindings {
		t.Errorf("operations: got %d, want one per binding: %d", ops, bindings)
	}
}

func TestBindingsBecomeOperations(t *testing.T) {
	doc := build(t, bookstore(t), nil)
	for _, tc := range []struct{ method, path, id, grpc string }{
		{"GET", "/v1/shelves", "example.bookstore.v1.BookstoreService.ListShelves", "/example.bookstore.v1.BookstoreService/ListShelves"},
		{"GET", "/v1/shelves/{shelf}/books/{book}", "example.bookstore.v1.BookstoreService.GetBook", "/example.bookstore.v1.BookstoreService/GetBook"},
		{"GET", "/v1/books/{name}", "example.bookstore.v1.BookstoreService.GetBook_2", "/example.bookstore.v1.BookstoreService/GetBook"},
		{"POST", "/v1/shelves/{shelf}/books/{book}:move", "example.bookstore.v1.BookstoreService.MoveBook", "/example.bookstore.v1.BookstoreService/MoveBook"},
		{"GET", "/v1/warehouses/{warehouse}/zones/{zone}", "example.inventory.v1.InventoryService.GetZone", "/example.inventory.v1.InventoryService/GetZone"},
		{"POST", "/example.bookstore.v1.BookstoreService/Reindex", "example.bookstore.v1.BookstoreService.Reindex", "/example.bookstore.v1.BookstoreService/Reindex"},
	} {
		o := op(t, doc, tc.method, tc.path)
		if o.OperationID != tc.id {
			t.Errorf("%s %s: operationId got %q, want %q", tc.method, tc.path, o.OperationID, tc.id)
		}
		if got := o.Extensions[openapi.ExtGRPCMethod]; got != tc.grpc {
			t.Errorf("%s %s: %s got %v, want %s", tc.method, tc.path, openapi.ExtGRPCMethod, got, tc.grpc)
		}
	}
}

func TestPathAndQueryParameters(t *testing.T) {
	doc := build(t, bookstore(t), nil)
	list := op(t, doc, "GET", "/v1/shelves/{shelf}/books")
	// {parent=shelves/*} is expanded: its wildcard is a parameter that
	// says which field it makes up.
	shelf := param(t, list, "path", "shelf")
	if !shelf.Required || shelf.Extensions[openapi.ExtField] != "parent" || !strings.Contains(shelf.Description, "{parent=shelves/*}") {
		t.Errorf("shelf: got required %v, %s %v, description %q; want required, parent, and the variable", shelf.Required, openapi.ExtField, shelf.Extensions[openapi.ExtField], shelf.Description)
	}
	for _, name := range []string{"pageSize", "genre", "tags", "publishedAfter", "maxAge", "readMask", "author", "minReview.reviewer", "minReview.stars", "genres", "includeDrafts", "minRating"} {
		param(t, list, "query", name)
	}
	if p := list.Parameters.GetByInAndName("query", "parent"); p != nil {
		t.Errorf("parent is bound by the path, and is also a query parameter")
	}
	if s := param(t, list, "query", "tags").Schema.Value; !s.Type.Is("array") {
		t.Errorf("tags: got type %v, want array", s.Type)
	}
	// {name=**} holds slashes: one parameter, marked so clients keep them.
	deep := param(t, op(t, doc, "GET", "/v1/books/{name}"), "path", "name")
	if deep.Extensions[openapi.ExtMultiSegment] != true {
		t.Errorf("/v1/books/{name=**}: %s got %v, want true", openapi.ExtMultiSegment, deep.Extensions[openapi.ExtMultiSegment])
	}
	// A body "*" leaves no query parameters.
	move := op(t, doc, "POST", "/v1/shelves/{shelf}/books/{book}:move")
	for _, p := range move.Parameters {
		if p.Value.In == "query" {
			t.Errorf("MoveBook (body *): unexpected query parameter %s", p.Value.Name)
		}
	}
	// A body field leaves the other fields to the query.
	update := op(t, doc, "PATCH", "/v1/shelves/{shelf}/books/{book}")
	param(t, update, "query", "updateMask")
	if p := param(t, update, "path", "book"); p.Extensions[openapi.ExtField] != "book.name" {
		t.Errorf("UpdateBook book: %s got %v, want book.name", openapi.ExtField, p.Extensions[openapi.ExtField])
	}
}

func TestProto3JSONMapping(t *testing.T) {
	doc := build(t, bookstore(t), nil)
	shelf := component(t, doc, "example.bookstore.v1.Shelf")
	if got := jsonOf(t, shelf.Properties["id"].Value.Type); got != `["string","integer"]` {
		t.Errorf("Shelf.id (int64): got type %s, want [string integer]", got)
	}
	book := component(t, doc, "example.bookstore.v1.Book")
	for field, want := range map[string]string{
		"publishTime": `"format":"date-time"`,           // Timestamp
		"pageCount":   `"type":["integer","null"]`,      // Int32Value
		"topReview":   `"anyOf":[{"$ref":"#/components`, // a message: null when unset
		"genre":       `"$ref":"#/components/schemas/example.bookstore.v1.Genre"`,
	} {
		if s := jsonOf(t, book.Properties[field]); !strings.Contains(s, want) {
			t.Errorf("Book.%s: got %s, want it to contain %s", field, s, want)
		}
	}
	genre := component(t, doc, "example.bookstore.v1.Genre")
	if got := jsonOf(t, genre.Enum); got != `["GENRE_UNSPECIFIED","GENRE_FICTION","GENRE_SCIENCE","GENRE_HISTORY","GENRE_POETRY"]` {
		t.Errorf("Genre: got enum %s, want the value names", got)
	}
	// The schemas accept what the door writes.
	bookJSON := map[string]any{
		"name": "shelves/1/books/1", "title": "Dune", "author": "Frank Herbert", "genre": "GENRE_FICTION",
		"publishTime": "1965-08-01T00:00:00Z", "tags": []any{"classic"}, "pageCount": nil, "topReview": nil,
	}
	if err := book.VisitJSON(bookJSON, openapi3.EnableJSONSchema2020()); err != nil {
		t.Errorf("a Book as the door writes it does not match its schema: %v", err)
	}
}

func TestValidateRulesBecomeKeywords(t *testing.T) {
	doc := build(t, bookstore(t), nil)
	shelf := component(t, doc, "example.bookstore.v1.Shelf")
	if s := shelf.Properties["theme"].Value; s.MinLength != 1 || s.MaxLength == nil || *s.MaxLength != 100 {
		t.Errorf("Shelf.theme: got minLength %d maxLength %v, want 1 and 100", s.MinLength, s.MaxLength)
	}
	review := component(t, doc, "example.bookstore.v1.Review")
	if s := review.Properties["stars"].Value; s.Min == nil || *s.Min != 0 || s.Max == nil || *s.Max != 5 {
		t.Errorf("Review.stars: got %s, want minimum 0 and maximum 5", jsonOf(t, s))
	}
	if s := component(t, doc, "example.bookstore.v1.Book").Properties["tags"].Value; s.MaxItems == nil || *s.MaxItems != 10 {
		t.Errorf("Book.tags: got %s, want maxItems 10", jsonOf(t, s))
	}
	if got := component(t, doc, "example.bookstore.v1.CreateBookRequest").Required; len(got) != 1 || got[0] != "book" {
		t.Errorf("CreateBookRequest: got required %v, want [book]", got)
	}
	getShelf := op(t, doc, "GET", "/v1/shelves/{shelf}")
	if s := param(t, getShelf, "path", "shelf").Schema.Value; s.ExclusiveMin.Value == nil || *s.ExclusiveMin.Value != 0 {
		t.Errorf("GetShelf shelf (int64.gt 0): got %s, want exclusiveMinimum 0", jsonOf(t, s))
	}
}

// rulesFile is a file whose rules the bookstore does not use, with source
// info (comments): a descriptor set built with buf build or protoc keeps
// it.
func rulesFile(t *testing.T) *protoregistry.Files {
	t.Helper()
	fieldOpts := func(r *validate.FieldRules) *descriptorpb.FieldOptions {
		o := &descriptorpb.FieldOptions{}
		proto.SetExtension(o, validate.E_Field, r)
		return o
	}
	str := func(s *validate.StringRules) *validate.FieldRules {
		return validate.FieldRules_builder{String: s}.Build()
	}
	label := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()
	repeated := descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
	typ := func(t descriptorpb.FieldDescriptorProto_Type) *descriptorpb.FieldDescriptorProto_Type {
		return t.Enum()
	}
	methodOpts := &descriptorpb.MethodOptions{}
	proto.SetExtension(methodOpts, annotations.E_Http, &annotations.HttpRule{Pattern: &annotations.HttpRule_Get{Get: "/v1/rules/{code}"}})
	fdp := &descriptorpb.FileDescriptorProto{
		Name:       proto.String("test/rules.proto"),
		Package:    proto.String("test.rules"),
		Syntax:     proto.String("proto3"),
		Dependency: []string{"buf/validate/validate.proto", "google/api/annotations.proto"},
		MessageType: []*descriptorpb.DescriptorProto{{
			Name: proto.String("Rules"),
			Field: []*descriptorpb.FieldDescriptorProto{
				{Name: proto.String("email"), Number: proto.Int32(1), Label: label, Type: typ(descriptorpb.FieldDescriptorProto_TYPE_STRING), JsonName: proto.String("email"),
					Options: fieldOpts(str(validate.StringRules_builder{Email: proto.Bool(true)}.Build()))},
				{Name: proto.String("code"), Number: proto.Int32(2), Label: label, Type: typ(descriptorpb.FieldDescriptorProto_TYPE_STRING), JsonName: proto.String("code"),
					Options: fieldOpts(str(validate.StringRules_builder{In: []string{"x-a", "x-b"}, Prefix: proto.String("x-")}.Build()))},
				{Name: proto.String("ids"), Number: proto.Int32(3), Label: repeated, Type: typ(descriptorpb.FieldDescriptorProto_TYPE_STRING), JsonName: proto.String("ids"),
					Options: fieldOpts(validate.FieldRules_builder{Repeated: validate.RepeatedRules_builder{MinItems: proto.Uint64(1), Unique: proto.Bool(true)}.Build()}.Build())},
				{Name: proto.String("ratio"), Number: proto.Int32(4), Label: label, Type: typ(descriptorpb.FieldDescriptorProto_TYPE_DOUBLE), JsonName: proto.String("ratio"),
					Options: fieldOpts(validate.FieldRules_builder{Double: validate.DoubleRules_builder{Gt: proto.Float64(0), Lt: proto.Float64(1)}.Build()}.Build())},
				{Name: proto.String("nickname"), Number: proto.Int32(5), Label: label, Type: typ(descriptorpb.FieldDescriptorProto_TYPE_STRING), JsonName: proto.String("nickname"),
					Options: fieldOpts(validate.FieldRules_builder{Ignore: validate.Ignore_IGNORE_IF_ZERO_VALUE.Enum(), String: validate.StringRules_builder{MinLen: proto.Uint64(3)}.Build()}.Build())},
				{Name: proto.String("even"), Number: proto.Int32(6), Label: label, Type: typ(descriptorpb.FieldDescriptorProto_TYPE_INT32), JsonName: proto.String("even"),
					Options: fieldOpts(validate.FieldRules_builder{Cel: []*validate.Rule{validate.Rule_builder{Id: proto.String("even"), Expression: proto.String("this % 2 == 0"), Message: proto.String("must be even")}.Build()}}.Build())},
			},
		}},
		Service: []*descriptorpb.ServiceDescriptorProto{{
			Name:   proto.String("RulesService"),
			Method: []*descriptorpb.MethodDescriptorProto{{Name: proto.String("Get"), InputType: proto.String(".test.rules.Rules"), OutputType: proto.String(".test.rules.Rules"), Options: methodOpts}},
		}},
		SourceCodeInfo: &descriptorpb.SourceCodeInfo{Location: []*descriptorpb.SourceCodeInfo_Location{
			{Path: []int32{4, 0}, Span: []int32{1, 0, 1}, LeadingComments: proto.String(" Rules exercises the rules.\n Second line.\n")},
			{Path: []int32{4, 0, 2, 0}, Span: []int32{2, 0, 1}, LeadingComments: proto.String(" Where we write back.\n")},
			{Path: []int32{6, 0, 2, 0}, Span: []int32{3, 0, 1}, LeadingComments: proto.String(" Get returns the rules. It echoes.\n buf:lint:ignore RPC_REQUEST_STANDARD_NAME\n")},
		}},
	}
	files := &protoregistry.Files{}
	for _, dep := range fdp.Dependency {
		fd, err := protoregistry.GlobalFiles.FindFileByPath(dep)
		if err != nil {
			t.Fatal(err)
		}
		if err := files.RegisterFile(fd); err != nil {
			t.Fatal(err)
		}
	}
	fd, err := protodesc.NewFile(fdp, files)
	if err != nil {
		t.Fatal(err)
	}
	if err := files.RegisterFile(fd); err != nil {
		t.Fatal(err)
	}
	return files
}

func rulesDoc(t *testing.T) *openapi3.T {
	t.Helper()
	cat, err := catalog.New(catalog.Options{Files: rulesFile(t), APIs: []catalog.API{{
		Where: "apis[0]", Services: []string{"test.rules.RulesService"}, Backend: nopBackend{}, BackendName: "rules",
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return build(t, cat, nil)
}

func TestMoreRulesBecomeKeywords(t *testing.T) {
	doc := rulesDoc(t)
	rules := component(t, doc, "test.rules.Rules")
	for field, want := range map[string]string{
		"email": `{"description":"Where we write back.","format":"email","type":"string"}`,
		"ids":   `{"items":{"type":"string"},"minItems":1,"type":"array","uniqueItems":true}`,
		"ratio": `{"exclusiveMaximum":1,"exclusiveMinimum":0,"format":"double","type":"number"}`,
	} {
		if got := jsonOf(t, rules.Properties[field]); got != want {
			t.Errorf("Rules.%s: got %s, want %s", field, got, want)
		}
	}
	code := jsonOf(t, rules.Properties["code"])
	if !strings.Contains(code, `"enum":["x-a","x-b"]`) || !strings.Contains(code, `"pattern":"^x-"`) {
		t.Errorf("Rules.code: got %s, want enum [x-a x-b] and pattern ^x-", code)
	}
	// What keywords cannot say is described.
	if s := rules.Properties["nickname"].Value; s.MinLength != 0 || !strings.Contains(s.Description, "Validated only when set") || !strings.Contains(s.Description, "min_len:3") {
		t.Errorf("Rules.nickname (ignore if zero): got %s, want no minLength and the rule in the description", jsonOf(t, s))
	}
	if s := rules.Properties["even"].Value; !strings.Contains(s.Description, "this % 2 == 0") || !strings.Contains(s.Description, "must be even") {
		t.Errorf("Rules.even (CEL): got description %q, want the expression and its message", s.Description)
	}
	// The keywords work as JSON Schema.
	for _, tc := range []struct {
		v  map[string]any
		ok bool
	}{
		{map[string]any{"email": "a@example.com", "code": "x-a", "ids": []any{"1", "2"}, "ratio": 0.5}, true},
		{map[string]any{"ids": []any{"1", "1"}}, false},
		{map[string]any{"ratio": 1.0}, false},
		{map[string]any{"code": "y-a"}, false},
	} {
		err := rules.VisitJSON(tc.v, openapi3.EnableJSONSchema2020(), openapi3.EnableFormatValidation())
		if (err == nil) != tc.ok {
			t.Errorf("Rules %v: got error %v, want valid %v", tc.v, err, tc.ok)
		}
	}
}

func TestCommentsFromSourceInfo(t *testing.T) {
	doc := rulesDoc(t)
	rules := component(t, doc, "test.rules.Rules")
	if rules.Description != "Rules exercises the rules.\nSecond line." {
		t.Errorf("Rules description: got %q, want the message's comment", rules.Description)
	}
	if got := rules.Properties["email"].Value.Description; got != "Where we write back." {
		t.Errorf("Rules.email description: got %q, want the field's comment", got)
	}
	get := op(t, doc, "GET", "/v1/rules/{code}")
	if get.Summary != "Get returns the rules." {
		t.Errorf("summary: got %q, want the comment's first sentence", get.Summary)
	}
	if strings.Contains(get.Description, "buf:lint") || !strings.Contains(get.Description, "It echoes.") {
		t.Errorf("description: got %q, want the comment without tool directives", get.Description)
	}
}

func TestStreamingNoted(t *testing.T) {
	doc := build(t, bookstore(t), nil)
	for _, tc := range []struct{ method, path, want string }{
		{"GET", "/v1/shelves/{shelf}/books:watch", "server"},
		{"POST", "/v1/books:import", "client"},
		{"POST", "/v1/books:lookup", "bidi"},
	} {
		o := op(t, doc, tc.method, tc.path)
		if got := o.Extensions[openapi.ExtStreaming]; got != tc.want {
			t.Errorf("%s %s: %s got %v, want %s", tc.method, tc.path, openapi.ExtStreaming, got, tc.want)
		}
	}
	watch := op(t, doc, "GET", "/v1/shelves/{shelf}/books:watch")
	if !strings.Contains(watch.Description, "newline-delimited JSON") {
		t.Errorf("WatchBooks description: got %q, want the stream's format", watch.Description)
	}
	item := watch.Responses.Value("200").Value.Content.Get("application/json").Schema.Value
	if len(item.OneOf) != 2 || item.OneOf[0].Value.Properties["result"] == nil || item.OneOf[1].Value.Properties["error"] == nil {
		t.Errorf("WatchBooks item: got %s, want one of {result} and {error}", jsonOf(t, item))
	}
	if op(t, doc, "POST", "/v1/shelves/{shelf}/books").Extensions[openapi.ExtStreaming] != nil {
		t.Errorf("CreateBook (unary) is marked streaming")
	}
}

func TestRawBodies(t *testing.T) {
	doc := build(t, bookstore(t), nil)
	if c := op(t, doc, "GET", "/v1/shelves/{shelf}/books/{book}/cover").Responses.Value("200").Value.Content; c.Get("*/*") == nil {
		t.Errorf("GetBookCover (HttpBody): got content %v, want */*", c)
	}
	if c := op(t, doc, "PUT", "/v1/shelves/{shelf}/books/{book}/cover").RequestBody.Value.Content; c.Get("*/*") == nil {
		t.Errorf("UploadBookCover (HttpBody body field): got content %v, want */*", c)
	}
}

func TestSecurityFromAuthConfig(t *testing.T) {
	cfg := &configv1.Config{
		Auth: &configv1.Auth{Providers: []*configv1.AuthProvider{
			{Name: "corp", Kind: &configv1.AuthProvider_Jwt{Jwt: &configv1.JwtProvider{Issuer: "https://idp.example.com/", Audiences: []string{"portico"}, Discovery: true}}},
			{Name: "partner", Kind: &configv1.AuthProvider_Jwt{Jwt: &configv1.JwtProvider{Issuer: "https://partner.example.com", Audiences: []string{"*"},
				TokenSources: []*configv1.TokenSource{{Kind: &configv1.TokenSource_Query{Query: "access_token"}}}}}},
			{Name: "keys", Kind: &configv1.AuthProvider_ApiKey{ApiKey: &configv1.ApiKeyProvider{KeysFile: "keys.yaml"}}},
			{Name: "certs", Kind: &configv1.AuthProvider_Mtls{Mtls: &configv1.MtlsProvider{}}},
			{Name: "ext", Kind: &configv1.AuthProvider_External{External: &configv1.ExternalAuthorizer{Target: "authz:9000"}}},
		}},
		Apis: []*configv1.Api{{
			Services: []string{"example.bookstore.v1.BookstoreService"},
			Auth:     &configv1.ApiAuth{Providers: []string{"corp", "keys", "partner"}},
			Methods: []*configv1.MethodPolicy{
				{Selector: "example.bookstore.v1.BookstoreService.ListShelves", Auth: &configv1.ApiAuth{Public: true}},
				{Selector: "example.bookstore.v1.BookstoreService.GetShelf", Auth: &configv1.ApiAuth{Providers: []string{"certs", "ext"}}},
			},
		}},
	}
	doc := build(t, bookstoreWith(t, cfg), cfg)
	schemes := doc.Components.SecuritySchemes
	for name, want := range map[string]string{
		"corp":            `{"description":"OpenID Connect: tokens issued by https://idp.example.com/","openIdConnectUrl":"https://idp.example.com/.well-known/openid-configuration","type":"openIdConnect"}`,
		"partner":         `{"bearerFormat":"JWT","description":"JWT issued by https://partner.example.com","scheme":"bearer","type":"http"}`,
		"partner_source1": `{"description":"The same JWT, from another place","in":"query","name":"access_token","type":"apiKey"}`,
		"keys":            `{"description":"API key","in":"header","name":"x-api-key","type":"apiKey"}`,
		"certs":           `{"description":"A verified client certificate","type":"mutualTLS"}`,
	} {
		s, ok := schemes[name]
		if !ok {
			t.Errorf("no security scheme %s", name)
			continue
		}
		if got := jsonOf(t, s.Value); got != want {
			t.Errorf("scheme %s: got %s, want %s", name, got, want)
		}
	}
	if _, ok := schemes["ext"]; ok {
		t.Errorf("an external authorizer has no OpenAPI scheme, got one")
	}
	if got := jsonOf(t, op(t, doc, "GET", "/v1/shelves/{shelf}/books/{book}").Security); got != `[{"corp":[]},{"keys":[]},{"partner":[]},{"partner_source1":[]}]` {
		t.Errorf("GetBook security: got %s, want the API's providers", got)
	}
	if s := op(t, doc, "GET", "/v1/shelves").Security; s != nil && len(*s) > 0 {
		t.Errorf("ListShelves (public): got security %s, want none", jsonOf(t, s))
	}
	getShelf := op(t, doc, "GET", "/v1/shelves/{shelf}")
	if got := jsonOf(t, getShelf.Security); got != `[{"certs":[]}]` {
		t.Errorf("GetShelf security: got %s, want the method's certs", got)
	}
	if !strings.Contains(getShelf.Description, "external authorizer") {
		t.Errorf("GetShelf description: got %q, want a note on the external authorizer", getShelf.Description)
	}
}
