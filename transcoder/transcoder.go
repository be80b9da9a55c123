// Package transcoder is the REST door: it matches an HTTP request to a
// method's binding with a trie, maps path variables, query parameters and
// the JSON body onto the request message, runs the call through the
// pipeline, and writes the response (or error) the way grpc-gateway does by
// default, so grpc-gateway clients can move to Portico unchanged.
package transcoder

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/textproto"
	"sort"
	"strings"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/catalog/httprule"
	"github.com/portico-gw/portico/codec"
	"github.com/portico-gw/portico/config"
	"github.com/portico-gw/portico/gatewayresponses"
	"github.com/portico-gw/portico/pipeline"
	"github.com/portico-gw/portico/responsemap"
	"github.com/portico-gw/portico/transcoder/jsonenc"
	"github.com/portico-gw/portico/transcoder/params"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// Options tune the REST door. Zero values select the documented defaults.
type Options struct {
	// MaxBodyBytes bounds a unary request body, each message of a
	// streaming body, and the encoded request message; larger is 413.
	// Default 4 MiB.
	MaxBodyBytes int64
	// MaxPathBytes bounds the escaped request path; longer is 414. Default 8 KiB.
	MaxPathBytes int
	// MaxJSONDepth bounds the nesting of a JSON message; deeper is 400
	// before any parsing work. Default 64, at most 100.
	MaxJSONDepth int
	// MaxJSONValues bounds the values (array elements and object members)
	// of one JSON message; more is 400. Default 10,000.
	MaxJSONValues int
	// MaxQueryParams bounds the parameters of a query string (with a form
	// body, of both together); more is 400. Default 1000. The depth of a
	// parameter's field path is bounded by RecursionLimit, and the JSON
	// of a Struct, Value or ListValue given in one by MaxJSONDepth and
	// MaxJSONValues, as a body's.
	MaxQueryParams int
	// BodyTimeout bounds reading a unary body, and each message of a
	// streaming body (the wait for it included). Default 30s; negative
	// means none.
	BodyTimeout time.Duration
	// WriteTimeout bounds writing a unary response, and each message of a
	// streamed one, so a client that stops reading is let go. Default 60s;
	// negative means none.
	WriteTimeout time.Duration
	// RecursionLimit bounds the nesting of decoded messages. Default
	// codec.DefaultRecursionLimit.
	RecursionLimit int
	// ForwardHeaders are request headers passed to backends as metadata
	// (lower-cased), beyond grpc-gateway's default set: the permanent HTTP
	// headers as grpcgateway-<name>, and Authorization. Default none.
	ForwardHeaders []string
	// Reserved reports metadata names no client may set (Portico's own
	// identity headers); they are never forwarded from a request. Names
	// starting with call.ReservedPrefix always are.
	Reserved func(key string) bool
	// Logger receives panics caught in the door. Default slog.Default().
	Logger *slog.Logger
	// Response returns a method's response mapping (apis[].response), from
	// which the REST door takes its HTTP status overrides and error format
	// (grpc-gateway's or RFC 9457 problem+json); nil for the defaults.
	// New calls it once per method. Default: none.
	Response func(m *catalog.Method) *responsemap.Mapping
	// WebSocketOrigins are the origins, besides the request's own, whose
	// pages may open a WebSocket on a streaming method's route: as
	// cors.allowed_origins writes them ("https://app.example.com", with
	// "*" wildcards in the host, or "*" for any origin, but then only
	// without ambient credentials: see crossorigin.Origins.WebSocket).
	// Requests without an Origin (not from a browser) are always
	// accepted. Default none.
	WebSocketOrigins []string
	// Gateway shapes the gateway's own refusals (their body and content
	// type by HTTP status) and sets its headers on every error the door
	// writes (gateway_responses). Nil: unchanged.
	Gateway *gatewayresponses.Responses
	// HTTPBodyCSP is the Content-Security-Policy of google.api.HttpBody
	// answers (the config's rest.http_body_content_security_policy):
	// default "sandbox"; "off" sends none.
	HTTPBodyCSP string
}

// Transcoder is the REST door for one snapshot. It is immutable and safe for
// concurrent use.
type Transcoder struct {
	// types resolves Any and error-detail types: the catalog's own
	// descriptors first.
	types     jsonenc.Resolver
	routes    *hostRouters
	mux       *runtime.ServeMux // grpc-gateway's defaults: error handler, outgoing header names
	headers   *headerMap
	json      *jsonenc.Encoder
	marshaler runtime.Marshaler
	limits    jsonLimits
	// params bounds path variables, query strings and form bodies.
	params params.Limits
	opts   Options
	// mappings holds the response mapping of each method that has one
	// with REST choices (Options.Response), read on the error path only.
	mappings map[*catalog.Method]*responsemap.Mapping
	// ws is how WebSocket handshakes are accepted (origins).
	ws *wsAccept
}

// New compiles every binding of the catalog into the route trie, resolving
// each field a rule names, with each route pointing at its method's
// compiled pipeline. Rules naming missing fields are errors here, returned
// as config.Errors located where each rule was written
// (catalog.Binding.Origin).
func New(cat *catalog.Catalog, p *pipeline.Pipeline, opts Options) (*Transcoder, error) {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 4 << 20
	}
	if opts.MaxPathBytes <= 0 {
		opts.MaxPathBytes = 8 << 10
	}
	if opts.MaxJSONDepth <= 0 || opts.MaxJSONDepth > maxJSONDepth {
		opts.MaxJSONDepth = 64
	}
	if opts.MaxJSONValues <= 0 {
		opts.MaxJSONValues = 10_000
	}
	if opts.MaxQueryParams <= 0 {
		opts.MaxQueryParams = params.DefaultMaxParams
	}
	if opts.BodyTimeout == 0 {
		opts.BodyTimeout = 30 * time.Second
	}
	if opts.WriteTimeout == 0 {
		opts.WriteTimeout = 60 * time.Second
	}
	if opts.RecursionLimit <= 0 {
		opts.RecursionLimit = codec.DefaultRecursionLimit
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	var types jsonenc.Resolver = protoregistry.GlobalTypes
	if cat.Types() != nil {
		types = cat.Types()
	}
	t := &Transcoder{
		types:   types,
		routes:  newHostRouters(),
		mux:     runtime.NewServeMux(),
		headers: &headerMap{match: headerMatcher(opts.ForwardHeaders), reserved: opts.Reserved},
		json:    jsonenc.NewWithResolver(types),
		limits:  jsonLimits{depth: opts.MaxJSONDepth, values: opts.MaxJSONValues},
		marshaler: &runtime.HTTPBodyMarshaler{Marshaler: &runtime.JSONPb{
			MarshalOptions:   protojson.MarshalOptions{EmitUnpopulated: true, Resolver: types},
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: true, RecursionLimit: opts.RecursionLimit, Resolver: types},
		}},
		opts: opts,
	}
	t.params = params.Limits{MaxParams: opts.MaxQueryParams, MaxDepth: opts.RecursionLimit, JSON: t.checkJSONText}
	var errs config.Errors
	t.ws = acceptOptions(opts.WebSocketOrigins)
	var compiled sharedRoutes
	for _, m := range cat.MethodList() {
		if opts.Response != nil && len(m.Bindings()) > 0 {
			if rm := opts.Response(m); rm.REST() {
				if t.mappings == nil {
					t.mappings = map[*catalog.Method]*responsemap.Mapping{}
				}
				t.mappings[m] = rm
			}
		}
		for _, b := range m.Bindings() {
			rt, err := compiled.compile(b)
			if err != nil {
				errs = append(errs, b.Origin.Errorf("method %s: %s %s: %v", m.Desc().FullName(), b.HTTPMethod, b.Template.Raw, err))
				continue
			}
			if rt.pm = p.Method(m.FullMethod()); rt.pm == nil {
				errs = append(errs, b.Origin.Errorf("method %s: no pipeline", m.Desc().FullName()))
				continue
			}
			if err := t.routes.add(apiHosts(m), b.HTTPMethod, b.Template, rt); err != nil {
				// The catalog resolves identical routes; this is a
				// binding the router still cannot tell from another.
				errs = append(errs, b.Origin.Errorf("method %s: %s", m.Desc().FullName(), strings.TrimPrefix(err.Error(), "router: ")))
			}
		}
	}
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
		return nil, errs
	}
	return t, nil
}

// headerMatcher is grpc-gateway's default incoming header matcher plus the
// configured headers.
func headerMatcher(forward []string) runtime.HeaderMatcherFunc {
	if len(forward) == 0 {
		return runtime.DefaultHeaderMatcher
	}
	set := make(map[string]string, len(forward))
	for _, h := range forward {
		set[textproto.CanonicalMIMEHeaderKey(h)] = strings.ToLower(h)
	}
	return func(key string) (string, bool) {
		if k, ok := runtime.DefaultHeaderMatcher(key); ok {
			return k, true
		}
		k, ok := set[textproto.CanonicalMIMEHeaderKey(key)]
		return k, ok
	}
}

// bodyKind says where the HTTP body goes.
type bodyKind int

const (
	bodyNone  bodyKind = iota // no body: every unbound field may come from the query
	bodyWhole                 // body "*": the whole request message
	bodyField                 // body "field": one field; the rest from path and query
)

// route is a binding compiled for serving: every field path resolved.
type route struct {
	m        *catalog.Method
	pm       *pipeline.Method
	b        *catalog.Binding
	vars     []pathVar
	body     bodyKind
	bodyPath params.Path
	// bodyIsHTTPBody: the body target is google.api.HttpBody, filled with
	// the raw bytes and Content-Type.
	bodyIsHTTPBody bool
	respPath       params.Path
	// respIsHTTPBody: the response (or its response_body field) is
	// google.api.HttpBody, written raw with its content type.
	respIsHTTPBody bool
	// patchMask is the update_mask field filled from the JSON body's keys
	// for PATCH bindings with a field body (grpc-gateway's rule).
	patchMask protoreflect.FieldDescriptor
	// skip reports query parameters for fields bound by path variables or
	// the body field; they are ignored.
	skip func(path string) bool
}

type pathVar struct {
	path  params.Path
	multi bool // covers more than one segment: reserved characters stay escaped
	// list: a repeated field, whose values the segment holds separated by
	// commas (grpc-gateway's rule).
	list bool
}

const httpBodyName = "google.api.HttpBody"

func compileRoute(b *catalog.Binding) (*route, error) {
	in := b.Method.Input().Descriptor()
	out := b.Method.Output().Descriptor()
	rt := &route{m: b.Method, b: b}
	var bound []params.Path
	for _, v := range b.Template.Vars {
		dotted := strings.Join(v.FieldPath, ".")
		p, err := params.Resolve(in, dotted)
		if err != nil {
			return nil, fmt.Errorf("path variable %q: %s", dotted, plain(err))
		}
		last := p[len(p)-1]
		if last.IsMap() {
			return nil, fmt.Errorf("path variable %q: map fields cannot be bound to the path", dotted)
		}
		if last.Message() != nil && !isWellKnownScalar(last.Message()) {
			return nil, fmt.Errorf("path variable %q: message fields cannot be bound to the path", dotted)
		}
		multi := v.End-v.Start != 1 || b.Template.Segments[v.Start].Kind != httprule.Wildcard
		rt.vars = append(rt.vars, pathVar{path: p, multi: multi, list: last.IsList()})
		bound = append(bound, p)
	}
	switch b.Body {
	case "":
		rt.body = bodyNone
	case "*":
		rt.body = bodyWhole
		rt.bodyIsHTTPBody = in.FullName() == httpBodyName
	default:
		p, err := params.Resolve(in, b.Body)
		if err != nil {
			return nil, fmt.Errorf("body %q: %s", b.Body, plain(err))
		}
		rt.body = bodyField
		rt.bodyPath = p
		bound = append(bound, p)
		last := p[len(p)-1]
		rt.bodyIsHTTPBody = !last.IsList() && last.Message() != nil && last.Message().FullName() == httpBodyName
		if b.HTTPMethod == "PATCH" && last.Message() != nil && !last.IsList() && !last.IsMap() {
			if fm := in.Fields().ByName("update_mask"); fm != nil && !fm.IsList() &&
				fm.Message() != nil && fm.Message().FullName() == "google.protobuf.FieldMask" {
				rt.patchMask = fm
			}
		}
	}
	rt.skip = params.SkipBound(bound...)
	if b.ResponseBody != "" {
		p, err := params.Resolve(out, b.ResponseBody)
		if err != nil {
			return nil, fmt.Errorf("response_body %q: %s", b.ResponseBody, plain(err))
		}
		rt.respPath = p
		last := p[len(p)-1]
		rt.respIsHTTPBody = !last.IsList() && last.Message() != nil && last.Message().FullName() == httpBodyName
	} else {
		rt.respIsHTTPBody = out.FullName() == httpBodyName
	}
	return rt, nil
}

// plain is an error's message without its gRPC status wording: params
// reports request-time problems as statuses, but here it is a config error.
func plain(err error) string {
	if st, ok := status.FromError(err); ok {
		return st.Message()
	}
	return err.Error()
}

// isWellKnownScalar reports message types that have a scalar text form
// (wrappers, Timestamp, Duration, FieldMask), which path variables may bind.
func isWellKnownScalar(md protoreflect.MessageDescriptor) bool {
	name := string(md.FullName())
	return strings.HasPrefix(name, "google.protobuf.") && (strings.HasSuffix(name, "Value") ||
		name == "google.protobuf.Timestamp" || name == "google.protobuf.Duration" || name == "google.protobuf.FieldMask")
}

// Reserved reports metadata names no client may set (nil: only those with
// call.ReservedPrefix); the gRPC door strips the same names.
func (t *Transcoder) Reserved() func(string) bool { return t.opts.Reserved }

// WriteError writes err as the REST door writes every error: a JSON body
// with grpc-gateway's shape and status table.
func (t *Transcoder) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	t.writeError(r.Context(), w, r, err)
}

// apiHosts are the hosts m's API is served for (none: any).
func apiHosts(m *catalog.Method) []string {
	if m.API() == nil {
		return nil
	}
	return m.API().Hosts()
}
