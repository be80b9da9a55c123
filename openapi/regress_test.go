package openapi_test

import (
	"testing"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
)

// TestRegressTemplatesDifferingInLiteralsKeepTheirOperations: GET
// /v1/{name=shelves/*/books/*} and GET /v1/{name=warehouses/*/zones/*}
// both became GET /v1/{name}, and the second overwrote the first. Each
// binding must keep its operation.
func TestRegressTemplatesDifferingInLiteralsKeepTheirOperations(t *testing.T) {
	cat := bookstore(t)
	doc := build(t, cat, nil)
	ids := map[string]bool{}
	for _, item := range doc.Paths.Map() {
		for _, o := range item.Operations() {
			ids[o.OperationID] = true
		}
	}
	for _, m := range cat.MethodList() {
		for i := range m.Bindings() {
			id := string(m.Desc().FullName())
			if i > 0 {
				id += "_" + string(rune('1'+i))
			}
			if !ids[id] {
				t.Errorf("binding %s %s (operation %s) is missing from the document", m.Bindings()[i].HTTPMethod, m.Bindings()[i].Template.Raw, id)
			}
		}
	}
}

// TestRegressGRPCPathSelector (issue 14, point 11, a sibling): a methods[]
// override written as the gRPC path (/package.Service/Method) was ignored
// by the document, which then showed the API's security on a method the
// gateway serves publicly. Selectors are read as every policy reads them.
func TestRegressGRPCPathSelector(t *testing.T) {
	cfg := &configv1.Config{
		Auth: &configv1.Auth{Providers: []*configv1.AuthProvider{
			{Name: "keys", Kind: &configv1.AuthProvider_ApiKey{ApiKey: &configv1.ApiKeyProvider{KeysFile: "keys.yaml"}}},
		}},
		Apis: []*configv1.Api{{
			Services: []string{"example.bookstore.v1.BookstoreService"},
			Auth:     &configv1.ApiAuth{Providers: []string{"keys"}},
			Methods: []*configv1.MethodPolicy{
				{Selector: "/example.bookstore.v1.BookstoreService/ListShelves", Auth: &configv1.ApiAuth{Public: true}},
			},
		}},
	}
	doc := build(t, bookstoreWith(t, cfg), cfg)
	if s := op(t, doc, "GET", "/v1/shelves").Security; s != nil && len(*s) > 0 {
		t.Errorf("ListShelves (public through /package.Service/Method): got security %s, want none", jsonOf(t, s))
	}
	if got := jsonOf(t, op(t, doc, "GET", "/v1/shelves/{shelf}").Security); got != `[{"keys":[]}]` {
		t.Errorf("GetShelf security: got %s, want the API's keys", got)
	}
}
