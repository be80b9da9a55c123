// Package mock is the mock integration: methods answered from the config,
// with no backend — for APIs whose backend does not exist yet, and for
// tests. Each response is a JSON message checked against the method's
// response type when the snapshot is built, or a gRPC status.
package mock

import (
	"context"
	"errors"
	"fmt"
	"github.com/portico-gw/portico/call"
	"io"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/catalog"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/integrations"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// Integration answers the methods its config lists.
type Integration struct {
	name string
	// byMethod are the responses by method full name, as configured.
	byMethod map[string]*configv1.MockResponse
	// answers are the prepared answers by gRPC path, made by Check.
	answers map[string]answer
}

// answer is a prepared response: a message, or a status error.
type answer struct {
	msg proto.Message
	err error
}

var _ integrations.Backend = (*Integration)(nil)

// Factory builds a mock integration from its config: each response's
// selector must name a method once, and its code (if any) must be a gRPC
// code name; the JSON is checked by Check against the method. Methods of
// the API with no response answer UNIMPLEMENTED (see Check).
func Factory(_ integrations.Env, in *configv1.Integration) (integrations.Backend, error) {
	i := &Integration{name: in.GetName(), byMethod: map[string]*configv1.MockResponse{}, answers: map[string]answer{}}
	for k, r := range in.GetMock().GetResponses() {
		where := fmt.Sprintf("mock.responses[%d]", k)
		name, err := catalog.MethodSelector(strings.TrimPrefix(r.GetSelector(), "."))
		if err != nil {
			return nil, fmt.Errorf("%s.selector: %v", where, err)
		}
		sel := string(name)
		if _, dup := i.byMethod[sel]; dup {
			return nil, fmt.Errorf("%s.selector: %s has a response already", where, sel)
		}
		if r.GetCode() != "" {
			c, err := parseCode(r.GetCode())
			if err != nil {
				return nil, fmt.Errorf("%s.code: %v", where, err)
			}
			if c != codes.OK && r.GetJson() != "" {
				return nil, fmt.Errorf("%s: json and a failing code are exclusive (a failing call has no response message)", where)
			}
		} else if r.GetMessage() != "" {
			return nil, fmt.Errorf("%s.message: goes with a code", where)
		}
		i.byMethod[sel] = r
	}
	return i, nil
}

var _ integrations.Factory = Factory

// parseCode reads a gRPC code name (NOT_FOUND, in any case).
func parseCode(name string) (codes.Code, error) {
	var c codes.Code
	if err := c.UnmarshalJSON([]byte(strconv.Quote(strings.ToUpper(strings.TrimSpace(name))))); err != nil {
		return 0, fmt.Errorf("%q is not a gRPC code name (e.g. NOT_FOUND)", name)
	}
	return c, nil
}

// Check prepares m's answer: its JSON must decode into the method's
// response type. A method with no response in the config is not served
// (an *integrations.NotServed): its calls answer UNIMPLEMENTED, so an API
// can be mocked one method at a time.
func (i *Integration) Check(m *catalog.Method) error {
	r, ok := i.byMethod[string(m.Desc().FullName())]
	if !ok {
		return &integrations.NotServed{Why: "no response in mock.responses"}
	}
	if r.GetCode() != "" {
		if c, _ := parseCode(r.GetCode()); c != codes.OK {
			// The mock stands for a backend: its errors are a backend's.
			i.answers[m.FullMethod()] = answer{err: call.FromBackend(status.Error(c, r.GetMessage()))}
			return nil
		}
	}
	msg := m.Output().New().Interface()
	if r.GetJson() != "" {
		if err := protojson.Unmarshal([]byte(r.GetJson()), msg); err != nil {
			return fmt.Errorf("mock response json is not a %s: %v", m.Output().Descriptor().FullName(), err)
		}
	}
	i.answers[m.FullMethod()] = answer{msg: msg}
	return nil
}

// Unary answers with the configured response (a copy: callers may keep
// it).
func (i *Integration) Unary(_ context.Context, m *catalog.Method, _ proto.Message) (proto.Message, error) {
	a, ok := i.answers[m.FullMethod()]
	if !ok {
		return nil, status.Errorf(codes.Unimplemented, "no mock response for %s", m.Desc().FullName())
	}
	if a.err != nil {
		return nil, a.err
	}
	return proto.Clone(a.msg), nil
}

// Stream reads the client's messages to the end, then answers with the
// configured response as the stream's one message (or its status).
func (i *Integration) Stream(ctx context.Context, m *catalog.Method, ss grpc.ServerStream) error {
	a, ok := i.answers[m.FullMethod()]
	if !ok {
		return status.Errorf(codes.Unimplemented, "no mock response for %s", m.Desc().FullName())
	}
	for {
		req := m.Input().New().Interface()
		if err := ss.RecvMsg(req); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return err
		}
		if !m.Desc().IsStreamingClient() {
			break
		}
	}
	catalog.StreamOpened(ss.Context())
	if a.err != nil {
		return a.err
	}
	return ss.SendMsg(proto.Clone(a.msg))
}

// Close releases nothing: a mock holds no connection.
func (i *Integration) Close() error { return nil }
