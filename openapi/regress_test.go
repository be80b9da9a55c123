package openapi_test

import "testing"

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
		for i := range m.Bindings {
			id := string(m.Desc.FullName())
			if i > 0 {
				id += "_" + string(rune('1'+i))
			}
			if !ids[id] {
				t.Errorf("binding %s %s (operation %s) is missing from the document", m.Bindings[i].HTTPMethod, m.Bindings[i].Template.Raw, id)
			}
		}
	}
}
