package catalog

import (
	"strings"
	"testing"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
)

// withHosts gives the APIs hosts and a base path.
func withHosts(apis []API, basePath string, hosts ...[]string) []API {
	for i := range apis {
		apis[i].Settings = &configv1.Api{Hosts: hosts[i], BasePath: basePath}
	}
	return apis
}

// TestHostsSeparateConflicts: two APIs on different hosts may serve the
// same route (both keep it, no warning); on a shared host the later wins
// as today.
func TestHostsSeparateConflicts(t *testing.T) {
	files := twoServices(t)
	apis := withHosts(apisOf("portico.test.v1.First", "portico.test.v1.Second"), "",
		[]string{"a.example.com"}, []string{"*.example.com"})
	cat, err := New(Options{Files: files, APIs: apis})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range cat.Warnings() {
		if strings.Contains(w.Error(), "/v1/echo/") {
			t.Errorf("APIs on different hosts: got warning %v, want none about /v1/echo", w)
		}
	}
	for _, m := range []string{"/portico.test.v1.First/Echo", "/portico.test.v1.Second/Echo"} {
		if n := len(cat.Method(m).Bindings()); n != 1 {
			t.Errorf("%s: got %d bindings, want its route kept", m, n)
		}
	}

	apis = withHosts(apisOf("portico.test.v1.First", "portico.test.v1.Second"), "",
		[]string{"a.example.com"}, []string{"b.example.com", "a.example.com"})
	cat, err = New(Options{Files: files, APIs: apis})
	if err != nil {
		t.Fatal(err)
	}
	if len(cat.Method("/portico.test.v1.First/Echo").Bindings()) != 0 || len(cat.Warnings()) == 0 {
		t.Errorf("APIs sharing a host: got First/Echo bindings %v, warnings %v; want the later to win with a warning",
			cat.Method("/portico.test.v1.First/Echo").Bindings(), cat.Warnings())
	}
}

// TestBasePathPrefixesBindings: base_path is part of every binding's
// template; bad hosts and base paths are errors at their keys.
func TestBasePathPrefixesBindings(t *testing.T) {
	files := twoServices(t)
	cat, err := New(Options{Files: files, APIs: withHosts(apisOf("portico.test.v1.First"), "/shop/v2", nil)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range cat.Method("/portico.test.v1.First/Echo").Bindings() {
		got = append(got, b.Template.Raw)
	}
	if want := "/shop/v2/v1/echo/{id}"; strings.Join(got, " ") != want {
		t.Errorf("bindings: got %v, want %s", got, want)
	}

	for _, tc := range []struct {
		base  string
		hosts []string
		want  string
	}{
		{"/shop/", nil, "apis[0].base_path"},
		{"shop", nil, "apis[0].base_path"},
		{"/shop/{id}", nil, "apis[0].base_path"},
		{"/shop/*", nil, "apis[0].base_path"},
		{"", []string{"ok.example.com", "API.example.com"}, "apis[0].hosts[1]"},
		{"", []string{"a.example.com:443"}, "apis[0].hosts[0]"},
		{"", []string{"*.*.example.com"}, "apis[0].hosts[0]"},
	} {
		_, err := New(Options{Files: files, APIs: withHosts(apisOf("portico.test.v1.First"), tc.base, tc.hosts)})
		if err == nil || !strings.Contains(err.Error(), tc.want+": ") {
			t.Errorf("base_path %q, hosts %q: got %v, want an error at %s", tc.base, tc.hosts, err, tc.want)
		}
	}
}

func TestServesHost(t *testing.T) {
	api := &API{Settings: &configv1.Api{Hosts: []string{"api.example.com", "*.shop.example.com"}}}
	for host, want := range map[string]bool{
		"api.example.com":      true,
		"a.shop.example.com":   true,
		"shop.example.com":     false,
		"a.b.shop.example.com": false,
		"other.example.com":    false,
		"":                     false,
	} {
		if got := api.ServesHost(host); got != want {
			t.Errorf("ServesHost(%q): got %v, want %v", host, got, want)
		}
	}
	if !(&API{}).ServesHost("anything") {
		t.Error("an API without hosts: got false, want every host served")
	}
	for in, want := range map[string]string{"API.Example.com:8443": "api.example.com", "api.example.com.": "api.example.com", "[::1]:80": "::1", "h": "h"} {
		if got := HostOf(in); got != want {
			t.Errorf("HostOf(%q): got %q, want %q", in, got, want)
		}
	}
}
