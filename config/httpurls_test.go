package config

import (
	"errors"
	"testing"
)

// TestFormerlyPendingKeysAccepted: the keys refused as "not implemented
// yet" until their features were built (the response cache, shadow
// traffic, the http integration's urls, health_check, retry,
// outlier_detection, gateway_responses) parse without an error now.
func TestFormerlyPendingKeysAccepted(t *testing.T) {
	_, err := Parse([]byte(`
integrations:
  - name: bookstore
    grpc: {target: "127.0.0.1:1"}
  - name: legacy
    http:
      urls: [http://127.0.0.1:1/api]
      load_balancing: round_robin
      health_check: {path: /healthz}
      retry: {max_attempts: 3, on: [502]}
      outlier_detection: {consecutive_failures: 5}
apis:
  - services: [example.bookstore.v1.BookstoreService]
    integration: bookstore
    methods:
      - selector: example.bookstore.v1.BookstoreService.ListShelves
        cache: {ttl: 30s}
        mirror: {integration: bookstore, percent: 10}
cache: {store: local}
gateway_responses: {headers: {X-Frame-Options: DENY}}
`), "")
	if err != nil {
		t.Errorf("Parse error = %v, want none", err)
	}
}

// TestHTTPURLAndURLs: url and urls together are refused at urls.
func TestHTTPURLAndURLs(t *testing.T) {
	_, err := Parse([]byte(`
integrations:
  - name: legacy
    http: {url: "http://127.0.0.1:1/api", urls: ["http://127.0.0.2:1/api"]}
`), "")
	var one *Error
	if !errors.As(err, &one) || one.Field != "integrations[0].http.urls" || one.Message != "set url or urls, not both" {
		t.Errorf("Parse error = %v, want integrations[0].http.urls: set url or urls, not both", err)
	}
}

// TestHTTPURLRequired: an http integration without url is refused at
// its key (url is no longer required by the schema, since urls is its
// alternative).
func TestHTTPURLRequired(t *testing.T) {
	_, err := Parse([]byte(`
integrations:
  - name: legacy
    http: {}
`), "")
	var one *Error
	if !errors.As(err, &one) || one.Field != "integrations[0].http.url" || one.Message != "is required" {
		t.Errorf("Parse error = %v, want integrations[0].http.url: is required", err)
	}
}
