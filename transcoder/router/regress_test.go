package router

import "testing"

// One test per reported problem, named for it.

// TestRegressVerbWithColon: grpc-gateway's a_bit_of_everything example binds
// "/v1/example/a_bit_of_everything/{uuid}:custom" and
// "/v1/example/a_bit_of_everything/{uuid}:custom:custom"; the verb of the
// second is "custom:custom". Both must be served, each for its own paths, and
// a ":" left over before the verb belongs to the variable.
func TestRegressVerbWithColon(t *testing.T) {
	const (
		custom = "/v1/example/a_bit_of_everything/{uuid}:custom"
		double = "/v1/example/a_bit_of_everything/{uuid}:custom:custom"
		get    = "/v1/example/a_bit_of_everything/{uuid}"
	)
	r, routes := build(t, "POST "+custom, "POST "+double, "GET "+get)
	runLookups(t, r, routes, []lookupCase{
		{method: "POST", path: "/v1/example/a_bit_of_everything/x:custom", want: custom, vars: []string{"x"}},
		{method: "POST", path: "/v1/example/a_bit_of_everything/x:custom:custom", want: double, vars: []string{"x"}},
		{method: "POST", path: "/v1/example/a_bit_of_everything/x:y:custom:custom", want: double, vars: []string{"x:y"}},
		{method: "POST", path: "/v1/example/a_bit_of_everything/x:custom:custom:custom", want: double, vars: []string{"x:custom"}},
		{method: "POST", path: "/v1/example/a_bit_of_everything/:custom:custom", want: custom, vars: []string{":custom"}},
		{method: "GET", path: "/v1/example/a_bit_of_everything/x:custom:custom", want: get, vars: []string{"x:custom:custom"}},
		{method: "PUT", path: "/v1/example/a_bit_of_everything/x:custom:custom", allowed: []string{"GET", "POST"}},
		{method: "POST", path: "/v1/example/a_bit_of_everything/x:other", allowed: []string{"GET"}},
	})
}

// TestRegressWildcardMethod: http.proto's custom kind "*" leaves the HTTP
// method unspecified, but such a route was filed under the method "*" and
// never matched. It takes every method; a route of the request's own
// method comes first, and "*" is never listed as an allowed method.
func TestRegressWildcardMethod(t *testing.T) {
	const (
		any  = "/v1/pages/{page=**}"
		get  = "/v1/pages/home"
		post = "/v1/forms/{form}"
	)
	r, routes := build(t, "* "+any, "GET "+get, "POST "+post)
	runLookups(t, r, routes, []lookupCase{
		{method: "GET", path: "/v1/pages/a/b", want: any, vars: []string{"a/b"}},
		{method: "OPTIONS", path: "/v1/pages/a", want: any, vars: []string{"a"}},
		{method: "GET", path: "/v1/pages/home", want: get},
		{method: "DELETE", path: "/v1/pages/home", want: any, vars: []string{"home"}},
		{method: "GET", path: "/v1/forms/x", allowed: []string{"POST"}},
		{method: "POST", path: "/v1/other"},
	})
}
