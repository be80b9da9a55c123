package mock

import (
	"context"
	"errors"
	"strings"
	"testing"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/integrations"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Regression tests, one per finding, named for it (issue 14).

// TestRegressMethodWithoutResponseIsNotServed: a method of the API with
// no response in mock.responses was a config error, so an API could not
// be mocked one method at a time. Now Check says it is not served (a
// warning, not an error) and its calls answer UNIMPLEMENTED; the methods
// with a response still answer.
func TestRegressMethodWithoutResponseIsNotServed(t *testing.T) {
	i, err := newMock(t, &configv1.MockResponse{Selector: svc + "GetShelf", Json: `{"id": "1"}`})
	if err != nil {
		t.Fatal(err)
	}
	ms := methods(t, i)
	list := method(t, ms, "ListShelves")
	var ns *integrations.NotServed
	if err := i.Check(list); !errors.As(err, &ns) {
		t.Fatalf("Check(ListShelves): got %v, want an *integrations.NotServed", err)
	}
	if ns.Why == "" {
		t.Error("NotServed.Why: got empty, want what is missing")
	}
	if _, err := i.Unary(context.Background(), list, list.Input().New().Interface()); status.Code(err) != codes.Unimplemented {
		t.Errorf("Unary(ListShelves): got %v, want Unimplemented", err)
	}
	get := method(t, ms, "GetShelf")
	if err := i.Check(get); err != nil {
		t.Fatalf("Check(GetShelf): got %v, want nil", err)
	}
	if _, err := i.Unary(context.Background(), get, get.Input().New().Interface()); err != nil {
		t.Errorf("Unary(GetShelf): got %v, want the response", err)
	}
}

// TestRegressSelectorAsGRPCPath: a mock response's selector written as
// the method's gRPC path (/package.Service/Method), which every policy
// reads, was refused here: one selector syntax everywhere.
func TestRegressSelectorAsGRPCPath(t *testing.T) {
	i, err := newMock(t, &configv1.MockResponse{Selector: "/" + strings.TrimSuffix(svc, ".") + "/GetShelf", Json: `{"id": "1"}`})
	if err != nil {
		t.Fatalf("a /package.Service/Method selector: got %v, want it read as the method", err)
	}
	get := method(t, methods(t, i), "GetShelf")
	if err := i.Check(get); err != nil {
		t.Errorf("Check(GetShelf): got %v, want its response found", err)
	}
}
