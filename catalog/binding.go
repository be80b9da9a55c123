package catalog

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/portico-gw/portico/catalog/httprule"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
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
	Body string
	// ResponseBody is "" (the whole response) or a response field path.
	ResponseBody string
	// Default marks the POST /{package.Service}/{Method} binding made for a
	// method without a rule.
	Default bool
}

// annotationRule returns the method's google.api.http option, or nil.
func annotationRule(md protoreflect.MethodDescriptor) *annotations.HttpRule {
	opts := md.Options()
	if opts == nil || !proto.HasExtension(opts, annotations.E_Http) {
		return nil
	}
	rule, _ := proto.GetExtension(opts, annotations.E_Http).(*annotations.HttpRule)
	return rule
}

func bindingsFor(m *Method, rule *annotations.HttpRule, defaults bool) ([]*Binding, error) {
	if rule == nil {
		if !defaults {
			return nil, nil
		}
		tpl, err := parseTemplate(fmt.Sprintf("/%s/%s", m.Desc.Parent().FullName(), m.Desc.Name()))
		if err != nil {
			return nil, err
		}
		return []*Binding{{Method: m, HTTPMethod: http.MethodPost, Template: tpl, Body: "*", Default: true}}, nil
	}
	first, err := bindingFor(m, rule)
	if err != nil {
		return nil, err
	}
	out := []*Binding{first}
	for i, extra := range rule.GetAdditionalBindings() {
		if len(extra.GetAdditionalBindings()) > 0 {
			return nil, fmt.Errorf("additional_bindings[%d]: nested additional_bindings are not allowed", i)
		}
		b, err := bindingFor(m, extra)
		if err != nil {
			return nil, fmt.Errorf("additional_bindings[%d]: %v", i, err)
		}
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
	tpl, err := parseTemplate(path)
	if err != nil {
		return nil, err
	}
	if (m.Desc.IsStreamingClient()) && rule.GetBody() != "*" {
		return nil, fmt.Errorf("client-streaming method needs body \"*\" (got %q)", rule.GetBody())
	}
	return &Binding{
		Method:       m,
		HTTPMethod:   method,
		Template:     tpl,
		Body:         rule.GetBody(),
		ResponseBody: rule.GetResponseBody(),
	}, nil
}
