package router_test

import (
	"fmt"

	"github.com/portico-gw/portico/catalog/httprule"
	"github.com/portico-gw/portico/transcoder/router"
)

func Example() {
	r := router.New[string]()
	for _, route := range []struct{ method, tpl, name string }{
		{"GET", "/v1/{name=shelves/*/books/*}", "GetBook"},
		{"POST", "/v1/{name=shelves/*/books/*}:move", "MoveBook"},
		{"GET", "/v1/shelves/{shelf}/books/featured", "GetFeatured"},
	} {
		tpl, err := httprule.Parse(route.tpl)
		if err != nil {
			panic(err)
		}
		if err := r.Add(route.method, tpl, route.name); err != nil {
			panic(err)
		}
	}

	m, _, _ := r.Lookup("GET", "/v1/shelves/s1/books/b%2F1")
	fmt.Println(m.Value, m.Vars)
	m, _, _ = r.Lookup("POST", "/v1/shelves/s1/books/b1:move")
	fmt.Println(m.Value, m.Vars)
	m, _, _ = r.Lookup("GET", "/v1/shelves/s1/books/featured")
	fmt.Println(m.Value, m.Vars)
	_, allowed, found := r.Lookup("DELETE", "/v1/shelves/s1/books/b1")
	fmt.Println(found, allowed)
	_, allowed, found = r.Lookup("GET", "/v1/shelves/s1")
	fmt.Println(found, allowed)
	// Output:
	// GetBook [shelves/s1/books/b%2F1]
	// MoveBook [shelves/s1/books/b1]
	// GetFeatured [s1]
	// false [GET]
	// false []
}
