package httpbackend

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/catalog/httprule"
	"github.com/portico-gw/portico/integrations"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// httpBodyName is google.api.HttpBody: a raw body and its content type.
const httpBodyName = "google.api.HttpBody"

// buildRequest turns a call into the HTTP request its binding describes,
// re-rooted at base: the path variables from the message (the inverse of
// the REST door's mapping), the rule's body as JSON (or raw, for an
// HttpBody), the other fields as query parameters; the call's metadata as
// headers.
func buildRequest(ctx context.Context, base *url.URL, b *catalog.Binding, req proto.Message) (*http.Request, error) {
	msg := req.ProtoReflect()
	rest := proto.Clone(req).ProtoReflect() // what is left for the body or the query

	path, err := expandPath(b.Template, msg)
	if err != nil {
		return nil, err
	}
	for _, v := range b.Template.Vars {
		clearPath(rest, v.FieldPath)
	}

	var body []byte
	contentType := ""
	query := url.Values{}
	switch b.Body {
	case "":
		if query, err = queryOf(rest); err != nil {
			return nil, err
		}
	case "*":
		if isHTTPBody(rest.Descriptor()) {
			contentType, body = httpBodyParts(rest)
		} else if body, err = protojson.Marshal(rest.Interface()); err != nil {
			return nil, status.Errorf(codes.Internal, "encoding the request: %v", err)
		}
	default:
		fp := strings.Split(b.Body, ".")
		if contentType, body, err = fieldBody(rest, fp); err != nil {
			return nil, err
		}
		clearPath(rest, fp)
		if query, err = queryOf(rest); err != nil {
			return nil, err
		}
	}

	u := base.EscapedPath()
	u = strings.TrimSuffix(u, "/") + path
	target := base.Scheme + "://" + base.Host + u
	if q := query.Encode(); q != "" {
		target += "?" + q
	}
	var rd *bytes.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	var hreq *http.Request
	if rd != nil {
		hreq, err = http.NewRequestWithContext(ctx, b.HTTPMethod, target, rd)
	} else {
		hreq, err = http.NewRequestWithContext(ctx, b.HTTPMethod, target, nil)
	}
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "cannot make the backend request: %v", err)
	}
	setHeaders(hreq.Header, ctx)
	hreq.Header.Set("Accept", "application/json")
	if body != nil {
		if contentType == "" {
			contentType = "application/json"
		}
		hreq.Header.Set("Content-Type", contentType)
	}
	return hreq, nil
}

// setHeaders writes the call's incoming metadata as HTTP headers — what
// the client sent that the door forwards, the caller's identity set by
// policies — with grpcgateway-<name> (permanent HTTP headers the REST
// door kept) under its own name again and -bin values base64-encoded;
// transport headers are the gateway's own.
func setHeaders(h http.Header, ctx context.Context) {
	md, _ := metadata.FromIncomingContext(ctx)
	for k, vs := range md {
		if strings.HasPrefix(k, ":") || strings.HasPrefix(k, "grpc-") {
			continue
		}
		name := strings.TrimPrefix(k, "grpcgateway-")
		if integrations.HopHeader(name) || name == "user-agent" || name == "accept" {
			continue
		}
		for _, v := range vs {
			if strings.HasSuffix(name, "-bin") {
				v = base64.StdEncoding.EncodeToString([]byte(v))
			}
			h.Add(name, v)
		}
	}
	if info := call.FromContext(ctx); info.RequestID() != "" {
		h.Set(info.RequestIDHeader(), info.RequestID())
	}
}

// expandPath writes the template's path with the message's values in its
// variables: a one-segment variable escaped whole (a "/" becomes %2F), a
// multi-segment one segment by segment.
func expandPath(t *httprule.Template, msg protoreflect.Message) (string, error) {
	var b strings.Builder
	vi := 0
	for i := 0; i < len(t.Segments); i++ {
		b.WriteByte('/')
		if vi < len(t.Vars) && t.Vars[vi].Start == i {
			v := t.Vars[vi]
			vi++
			val, err := pathValue(msg, v.FieldPath)
			if err != nil {
				return "", err
			}
			single := v.End-v.Start == 1 && t.Segments[v.Start].Kind == httprule.Wildcard
			if single {
				if val == "" || dotPiece(val) {
					return "", status.Errorf(codes.InvalidArgument, "%s: %q is not a path parameter value", strings.Join(v.FieldPath, "."), val)
				}
				b.WriteString(url.PathEscape(val))
			} else {
				parts := strings.Split(val, "/")
				if err := matchSegments(t.Segments[v.Start:v.End], parts); err != nil {
					return "", status.Errorf(codes.InvalidArgument, "%s: %q does not match the route's pattern", strings.Join(v.FieldPath, "."), val)
				}
				for k, p := range parts {
					if k > 0 {
						b.WriteByte('/')
					}
					b.WriteString(url.PathEscape(p))
				}
			}
			i = v.End - 1
			continue
		}
		s := t.Segments[i]
		if s.Kind != httprule.Literal {
			return "", status.Errorf(codes.Internal, "route %s has a wildcard outside a variable", t.Raw)
		}
		b.WriteString(s.Literal)
	}
	if t.Verb != "" {
		b.WriteByte(':')
		b.WriteString(t.Verb)
	}
	return b.String(), nil
}

// matchSegments checks a multi-segment value against the variable's
// pattern (shelves/*/books/*), so a value cannot reach another route.
func matchSegments(pattern []httprule.Segment, parts []string) error {
	for k, s := range pattern {
		switch s.Kind {
		case httprule.DeepWildcard:
			if len(parts) < k {
				return fmt.Errorf("too short")
			}
			for _, p := range parts[k:] {
				if p == "" || dotPiece(p) {
					return fmt.Errorf("empty or dot segment")
				}
			}
			return nil
		case httprule.Wildcard:
			// A dot segment would be resolved away by the backend (or a
			// proxy before it), reaching another resource.
			if k >= len(parts) || parts[k] == "" || dotPiece(parts[k]) {
				return fmt.Errorf("missing or dot segment")
			}
		default:
			if k >= len(parts) || parts[k] != s.Literal {
				return fmt.Errorf("literal differs")
			}
		}
	}
	if len(parts) != len(pattern) {
		return fmt.Errorf("length differs")
	}
	return nil
}

// dotPiece reports whether a path value, cut at "/" and "\", has a "."
// or ".." piece, as it is or percent-decoded once. Escaped, such a value
// still reaches another resource on backends that decode an encoded
// slash, read a backslash as one, or decode twice, before resolving dot
// segments.
func dotPiece(v string) bool {
	if dotIn(v) {
		return true
	}
	d, err := url.PathUnescape(v)
	return err == nil && d != v && dotIn(d)
}

func dotIn(s string) bool {
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == '/' || r == '\\' }) {
		if p == "." || p == ".." {
			return true
		}
	}
	return false
}

// pathValue is the text of the scalar field at path.
func pathValue(msg protoreflect.Message, path []string) (string, error) {
	fd, m, err := walk(msg, path)
	if err != nil {
		return "", err
	}
	if fd.IsList() || fd.IsMap() || fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind {
		return "", status.Errorf(codes.InvalidArgument, "%s: a path parameter must be a scalar", strings.Join(path, "."))
	}
	if m == nil {
		return scalarText(fd, fd.Default()), nil
	}
	return scalarText(fd, m.Get(fd)), nil
}

// walk finds the field at path; m is the message holding it, nil when a
// message on the way is unset.
func walk(msg protoreflect.Message, path []string) (protoreflect.FieldDescriptor, protoreflect.Message, error) {
	m := msg
	md := msg.Descriptor()
	for k, name := range path {
		fd := md.Fields().ByName(protoreflect.Name(name))
		if fd == nil {
			return nil, nil, status.Errorf(codes.Internal, "no field %s in %s", name, md.FullName())
		}
		if k == len(path)-1 {
			return fd, m, nil
		}
		if fd.Kind() != protoreflect.MessageKind || fd.IsList() || fd.IsMap() {
			return nil, nil, status.Errorf(codes.Internal, "%s is not a message field", name)
		}
		if m != nil && m.Has(fd) {
			m = m.Get(fd).Message()
		} else {
			m = nil
		}
		md = fd.Message()
	}
	return nil, nil, status.Error(codes.Internal, "empty field path")
}

// clearPath clears the field at path, if the messages on the way are set.
func clearPath(msg protoreflect.Message, path []string) {
	m := msg
	for k, name := range path {
		fd := m.Descriptor().Fields().ByName(protoreflect.Name(name))
		if fd == nil {
			return
		}
		if k == len(path)-1 {
			m.Clear(fd)
			return
		}
		if fd.Kind() != protoreflect.MessageKind || fd.IsList() || fd.IsMap() || !m.Has(fd) {
			return
		}
		m = m.Mutable(fd).Message()
	}
}

// scalarText writes a scalar as a path or query value: enums by name,
// bytes in base64 (URL-safe, as grpc-gateway reads them), the rest as
// proto3 JSON writes them without quotes.
func scalarText(fd protoreflect.FieldDescriptor, v protoreflect.Value) string {
	switch fd.Kind() {
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return string(ev.Name())
		}
		return strconv.Itoa(int(v.Enum()))
	case protoreflect.BytesKind:
		return base64.URLEncoding.EncodeToString(v.Bytes())
	case protoreflect.BoolKind:
		return strconv.FormatBool(v.Bool())
	case protoreflect.FloatKind:
		return strconv.FormatFloat(v.Float(), 'g', -1, 32)
	case protoreflect.DoubleKind:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	}
	return v.String()
}

// fieldBody is the JSON (or raw HttpBody) of the body field at path.
func fieldBody(msg protoreflect.Message, path []string) (contentType string, body []byte, err error) {
	fd, m, err := walk(msg, path)
	if err != nil {
		return "", nil, err
	}
	if fd.Kind() == protoreflect.MessageKind && !fd.IsList() && !fd.IsMap() {
		sub := fd.Message()
		var v protoreflect.Message
		if m != nil && m.Has(fd) {
			v = m.Get(fd).Message()
		} else {
			v = m2new(msg, path)
		}
		if isHTTPBody(sub) {
			ct, data := httpBodyParts(v)
			return ct, data, nil
		}
		b, err := protojson.Marshal(v.Interface())
		if err != nil {
			return "", nil, status.Errorf(codes.Internal, "encoding the request body: %v", err)
		}
		return "", b, nil
	}
	// A scalar, list or map body: its proto3 JSON, taken from the JSON of
	// a message holding only that field.
	holder := msg.Interface()
	only := proto.Clone(holder).ProtoReflect()
	keepOnly(only, path)
	raw, err := protojson.MarshalOptions{EmitUnpopulated: true}.Marshal(only.Interface())
	if err != nil {
		return "", nil, status.Errorf(codes.Internal, "encoding the request body: %v", err)
	}
	var obj map[string]json.RawMessage
	cur := msg.Descriptor()
	for k, name := range path {
		f := cur.Fields().ByName(protoreflect.Name(name))
		if err := json.Unmarshal(raw, &obj); err != nil {
			return "", nil, status.Errorf(codes.Internal, "encoding the request body: %v", err)
		}
		raw = obj[f.JSONName()]
		if k < len(path)-1 {
			cur = f.Message()
		}
	}
	if len(raw) == 0 || string(raw) == "null" {
		raw = []byte("null")
	}
	return "", raw, nil
}

// m2new returns an empty message of the type of the field at path.
func m2new(msg protoreflect.Message, path []string) protoreflect.Message {
	md := msg.Descriptor()
	var fd protoreflect.FieldDescriptor
	for _, name := range path {
		fd = md.Fields().ByName(protoreflect.Name(name))
		md = fd.Message()
	}
	return msg.NewField(fd).Message().Type().New()
}

// keepOnly clears every field of msg but the one at path (and the
// messages leading to it).
func keepOnly(msg protoreflect.Message, path []string) {
	fd := msg.Descriptor().Fields().ByName(protoreflect.Name(path[0]))
	msg.Range(func(f protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		if f != fd {
			msg.Clear(f)
		}
		return true
	})
	if len(path) > 1 && fd != nil && msg.Has(fd) {
		keepOnly(msg.Mutable(fd).Message(), path[1:])
	}
}

func isHTTPBody(md protoreflect.MessageDescriptor) bool { return md.FullName() == httpBodyName }

// httpBodyParts reads an HttpBody's content type and data.
func httpBodyParts(m protoreflect.Message) (string, []byte) {
	fields := m.Descriptor().Fields()
	ct := m.Get(fields.ByName("content_type")).String()
	data := m.Get(fields.ByName("data")).Bytes()
	if data == nil {
		data = []byte{}
	}
	return ct, data
}

// queryOf writes the set fields of msg as query parameters: nested
// messages as dotted names, repeated fields as repeated parameters, as
// grpc-gateway reads them. Names are the JSON (lowerCamel) names.
func queryOf(msg protoreflect.Message) (url.Values, error) {
	q := url.Values{}
	raw, err := protojson.Marshal(msg.Interface())
	if err != nil {
		return nil, status.Errorf(codes.Internal, "encoding the query: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, status.Errorf(codes.Internal, "encoding the query: %v", err)
	}
	if err := flatten(q, "", v); err != nil {
		return nil, err
	}
	return q, nil
}

func flatten(q url.Values, prefix string, v any) error {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			name := k
			if prefix != "" {
				name = prefix + "." + k
			}
			if err := flatten(q, name, x[k]); err != nil {
				return err
			}
		}
	case []any:
		for _, e := range x {
			switch e.(type) {
			case map[string]any, []any:
				return status.Errorf(codes.InvalidArgument, "%s: a repeated message field cannot be sent as a query parameter (put it in the rule's body)", prefix)
			}
			if err := flatten(q, prefix, e); err != nil {
				return err
			}
		}
	case string:
		q.Add(prefix, x)
	case json.Number:
		q.Add(prefix, x.String())
	case bool:
		q.Add(prefix, strconv.FormatBool(x))
	case nil:
	}
	return nil
}
