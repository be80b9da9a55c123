package openapi

import (
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/portico-gw/portico/catalog"
)

// hostServers are the servers of an operation whose API has hosts
// (apis[].hosts): one per host, a wildcard's first label a variable; nil
// for an API served on any host. The API's base_path is in the paths
// themselves (it is part of every binding's template), since one document
// describes APIs with different base paths.
func hostServers(api *catalog.API) *openapi3.Servers {
	if api == nil || len(api.Hosts()) == 0 {
		return nil
	}
	servers := openapi3.Servers{}
	for _, h := range api.Hosts() {
		s := &openapi3.Server{URL: "https://" + h}
		if parent, ok := strings.CutPrefix(h, "*."); ok {
			s.URL = "https://{subdomain}." + parent
			s.Description = "any one-label name under " + parent
			s.Variables = map[string]*openapi3.ServerVariable{"subdomain": {Default: "www"}}
		}
		servers = append(servers, s)
	}
	return &servers
}
