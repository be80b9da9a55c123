package config

import (
	"errors"
	"testing"
)

// TestPendingKeysRefused: the keys whose behaviour is not built yet are
// config errors at their paths, never silently ignored; those that are
// built (an http integration's urls, health_check, retry,
// outlier_detection; mirror) are not refused.
func TestPendingKeysRefused(t *testing.T) {
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
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Parse error = %T %v, want Errors", err, err)
	}
	got := map[string]string{}
	for _, e := range errs {
		got[e.Field] = e.Message
	}
	for field, want := range map[string]string{
		"cache":                    "not implemented yet",
		"apis[0].methods[0].cache": "not implemented yet",
		"gateway_responses":        "not implemented yet",
	} {
		if got[field] != want {
			t.Errorf("%s: got %q, want %q", field, got[field], want)
		}
	}
	for _, field := range []string{"apis[0].methods[0].mirror", "integrations[1].http.urls", "integrations[1].http.load_balancing",
		"integrations[1].http.health_check", "integrations[1].http.retry", "integrations[1].http.outlier_detection"} {
		if msg, ok := got[field]; ok {
			t.Errorf("%s: got %q, want no error (built)", field, msg)
		}
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
