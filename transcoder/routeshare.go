package transcoder

import (
	"strconv"
	"strings"

	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/catalog/httprule"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// sharedRoutes compiles the bindings of a catalog, sharing what two
// bindings of the same shape compile to (issue 19, catalog scale): the
// resolved path variables, body and response paths and the query filter
// depend only on the input and output messages, the HTTP method, the body
// and response body and the variables' field paths, so the thousands of
// routes of a large API that take the same request (a name in the path,
// say) hold one copy of them instead of one each. Only the method, the
// binding and the pipeline stage are a route's own. What is shared is
// read-only once compiled.
type sharedRoutes struct {
	byShape map[routeShape]*route
}

// routeShape is what compileRoute's result depends on, besides the
// binding and its method.
type routeShape struct {
	in, out      protoreflect.MessageDescriptor
	httpMethod   string
	body, result string
	vars         string // each variable's field path and whether it spans segments
}

func shapeOf(b *catalog.Binding) routeShape {
	var vars strings.Builder
	for _, v := range b.Template.Vars {
		vars.WriteString(strings.Join(v.FieldPath, "."))
		multi := v.End-v.Start != 1 || b.Template.Segments[v.Start].Kind != httprule.Wildcard
		vars.WriteString(strconv.FormatBool(multi))
		vars.WriteByte('/')
	}
	return routeShape{
		in: b.Method.Input().Descriptor(), out: b.Method.Output().Descriptor(),
		httpMethod: b.HTTPMethod, body: b.Body, result: b.ResponseBody, vars: vars.String(),
	}
}

// compile is compileRoute(b), its compiled parts shared with an earlier
// binding of the same shape.
func (s *sharedRoutes) compile(b *catalog.Binding) (*route, error) {
	shape := shapeOf(b)
	if first, ok := s.byShape[shape]; ok {
		rt := *first
		rt.m, rt.b, rt.pm = b.Method, b, nil
		return &rt, nil
	}
	rt, err := compileRoute(b)
	if err != nil {
		return nil, err
	}
	if s.byShape == nil {
		s.byShape = map[routeShape]*route{}
	}
	s.byShape[shape] = rt
	return rt, nil
}
