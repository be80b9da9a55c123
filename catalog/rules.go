package catalog

import (
	"bytes"
	"fmt"
	"os"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/genproto/googleapis/api/serviceconfig"
	"google.golang.org/protobuf/encoding/protojson"
	"sigs.k8s.io/yaml"
)

// LoadHTTPRules reads gRPC API Configuration files (YAML, type:
// google.api.Service) and returns their http.rules by selector. A selector
// must name one method; a selector given twice is an error.
func LoadHTTPRules(paths []string) (map[string]*annotations.HttpRule, error) {
	rules := map[string]*annotations.HttpRule{}
	from := map[string]string{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("http_rules: %v", err)
		}
		js, err := yaml.YAMLToJSON(data)
		if err != nil {
			return nil, fmt.Errorf("http_rules: %s: %v", p, err)
		}
		if string(bytes.TrimSpace(js)) == "null" {
			return nil, fmt.Errorf("http_rules: %s: the file is empty (want type: google.api.Service with http.rules)", p)
		}
		var svc serviceconfig.Service
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(js, &svc); err != nil {
			return nil, fmt.Errorf("http_rules: %s: %v", p, err)
		}
		for i, r := range svc.GetHttp().GetRules() {
			sel := r.GetSelector()
			if sel == "" {
				return nil, fmt.Errorf("http_rules: %s: http.rules[%d]: selector is empty", p, i)
			}
			if prev, dup := from[sel]; dup {
				return nil, fmt.Errorf("http_rules: %s: http.rules[%d]: selector %q already has a rule in %s", p, i, sel, prev)
			}
			from[sel] = p
			rules[sel] = r
		}
	}
	return rules, nil
}
