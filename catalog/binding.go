package catalog

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/portico-gw/portico/catalog/httprule"
	"github.com/portico-gw/portico/config"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Binding is one HTTP binding of a method: an HTTP method and path template,
// and where the request body and response body go.
type Binding struct {
	// Method is the gRPC method bound.
	Method *Method
	// HTTPMethod is GET, POST, … or a custom verb's method.
	HTTPMethod string
	// Template is the parsed path template.
	Template *httprule.Template
	// Body is "" (no body), "*" (the whole request message) or a field path.
	// For a client-streaming method the request body is the stream of
	// request messages whatever Body says, as in grpc-gateway.
	Body string
	// ResponseBody is "" (the whole response) or a response field path.
	ResponseBody string
	// Default marks the POST /{package.Service}/{Method} binding made for a
	// method without a rule.
	Default bool
	// Origin tells where the binding's rule was written.
	Origin Origin
}

// Origin is where a binding's rule was written: a rules file, a
// google.api.http annotation, or nowhere (a default binding).
type Origin struct {
	// Field is the config key to blame: the rules file's ("http_rules[0]")
	// for a rule from a rules file, otherwise the entry that exposes the
	// service ("apis[0].services[1]").
	Field string
	// File, Line and Column locate a rule from a rules file (or one of its
	// additional bindings); empty for the others.
	File         string
	Line, Column int
	// Desc says it in words, e.g. "rules file api.yaml:12:7",
	// "google.api.http annotation at echo.proto:30:5" or "default binding".
	Desc string
}

// Errorf returns a problem located at the origin.
func (o Origin) Errorf(format string, args ...any) *config.Error {
	return &config.Error{Field: o.Field, File: o.File, Line: o.Line, Column: o.Column, Message: fmt.Sprintf(format, args...)}
}

// ruleSource is the rule a method's bindings come from: a rules file's
// (file set), the method's annotation, or none.
type ruleSource struct {
	rule  *annotations.HttpRule
	file  *Rule  // set for a rule from a rules file
	field string // the exposing entry, "apis[0].services[1]"
}

// origin is where sub (the rule or one of its additional bindings) was
// written.
func (s ruleSource) origin(md protoreflect.MethodDescriptor, sub *annotations.HttpRule) Origin {
	if s.file != nil {
		e := s.file.errorAt(sub, "")
		return Origin{Field: e.Field, File: e.File, Line: e.Line, Column: e.Column,
			Desc: fmt.Sprintf("rules file %s:%d:%d", e.File, e.Line, e.Column)}
	}
	if s.rule == nil {
		return Origin{Field: s.field, Desc: "default binding"}
	}
	extra := -1
	for i, x := range s.rule.GetAdditionalBindings() {
		if x == sub {
			extra = i
		}
	}
	return Origin{Field: s.field, Desc: "google.api.http annotation " + annotationPlace(md, extra)}
}

// annotationPlace is "at file.proto:line:column" when the descriptors carry
// source positions (compiled from .proto sources), else "in file.proto":
// the place of the method's google.api.http option or, when extra >= 0, of
// its additional_bindings[extra] if the positions go that deep.
func annotationPlace(md protoreflect.MethodDescriptor, extra int) string {
	file := md.ParentFile()
	locs := file.SourceLocations()
	loc := locs.ByDescriptor(md)
	if len(loc.Path) == 0 {
		return "in " + file.Path()
	}
	// MethodDescriptorProto.options (4), the google.api.http extension,
	// then HttpRule.additional_bindings (11) and the index.
	path := append(append(protoreflect.SourcePath{}, loc.Path...), 4, int32(annotations.E_Http.TypeDescriptor().Number()))
	if opt := locs.ByPath(path); len(opt.Path) > 0 {
		loc = opt
		if extra >= 0 {
			if x := locs.ByPath(append(path, 11, int32(extra))); len(x.Path) > 0 {
				loc = x
			}
		}
	}
	return fmt.Sprintf("at %s:%d:%d", file.Path(), loc.StartLine+1, loc.StartColumn+1)
}

// bindingError is a rule's problem and the part of the rule it is about.
type bindingError struct {
	sub *annotations.HttpRule
	msg string
}

func bindingsFor(m *Method, src ruleSource, defaults bool) ([]*Binding, *bindingError) {
	rule := src.rule
	if rule == nil {
		if !defaults {
			return nil, nil
		}
		tpl, err := parseTemplate(basePathOf(m) + fmt.Sprintf("/%s/%s", m.desc.Parent().FullName(), m.desc.Name()))
		if err != nil {
			return nil, &bindingError{msg: err.Error()}
		}
		return []*Binding{{Method: m, HTTPMethod: http.MethodPost, Template: tpl, Body: "*", Default: true,
			Origin: src.origin(m.desc, nil)}}, nil
	}
	first, err := bindingFor(m, rule)
	if err != nil {
		return nil, &bindingError{sub: rule, msg: err.Error()}
	}
	first.Origin = src.origin(m.desc, rule)
	out := []*Binding{first}
	for i, extra := range rule.GetAdditionalBindings() {
		if len(extra.GetAdditionalBindings()) > 0 {
			return nil, &bindingError{sub: extra, msg: fmt.Sprintf("additional_bindings[%d]: nested additional_bindings are not allowed", i)}
		}
		b, err := bindingFor(m, extra)
		if err != nil {
			return nil, &bindingError{sub: extra, msg: fmt.Sprintf("additional_bindings[%d]: %v", i, err)}
		}
		b.Origin = src.origin(m.desc, extra)
		out = append(out, b)
	}
	return out, nil
}

func bindingFor(m *Method, rule *annotations.HttpRule) (*Binding, error) {
	var method, path string
	switch p := rule.GetPattern().(type) {
	case *annotations.HttpRule_Get:
		method, path = http.MethodGet, p.Get
	case *annotations.HttpRule_Put:
		method, path = http.MethodPut, p.Put
	case *annotations.HttpRule_Post:
		method, path = http.MethodPost, p.Post
	case *annotations.HttpRule_Delete:
		method, path = http.MethodDelete, p.Delete
	case *annotations.HttpRule_Patch:
		method, path = http.MethodPatch, p.Patch
	case *annotations.HttpRule_Custom:
		method, path = p.Custom.GetKind(), p.Custom.GetPath()
		if method == "" {
			return nil, errors.New("custom pattern without a kind")
		}
	default:
		return nil, errors.New("rule has no pattern (get, put, post, delete, patch or custom)")
	}
	tpl, err := parseTemplate(basePathOf(m) + path)
	if err != nil {
		return nil, err
	}
	if m.desc.IsStreamingClient() && len(tpl.Vars) > 0 {
		// grpc-gateway refuses these too: the body is the message stream,
		// so there is no one request message for path values to go into.
		vars := make([]string, len(tpl.Vars))
		for i, v := range tpl.Vars {
			vars[i] = strings.Join(v.FieldPath, ".")
		}
		return nil, fmt.Errorf("client-streaming method cannot bind path variables (%s): the request body is the stream of request messages", strings.Join(vars, ", "))
	}
	return &Binding{
		Method:       m,
		HTTPMethod:   method,
		Template:     tpl,
		Body:         rule.GetBody(),
		ResponseBody: rule.GetResponseBody(),
	}, nil
}

// basePathOf is the base path of m's API (apis[].base_path), "" for none.
func basePathOf(m *Method) string {
	if m.api == nil {
		return ""
	}
	return m.api.BasePath()
}
