package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// TestHostsAndBasePath: apis[].hosts and base_path on both doors and in
// the OpenAPI document. The REST door serves the API only for its hosts
// (exact and one-label wildcards, any port, any case), under its base
// path; other hosts and the bare path are 404 JSON. The gRPC door honours
// the hosts through :authority (UNIMPLEMENTED otherwise) and ignores the
// base path. The document gives each operation its servers and the
// paths their base path.
func TestHostsAndBasePath(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
		c.Apis[0].Hosts = []string{"api.example.com", "*.shop.example.com"}
		c.Apis[0].BasePath = "/bookstore"
		c.Docs = &configv1.Docs{OpenapiPath: "/openapi.json"}
	}})
	restGet := func(host, path string) (int, []byte) {
		req, _ := http.NewRequest(http.MethodGet, env.URL+path, nil)
		req.Host = host
		resp, body := do(t, req)
		return resp.StatusCode, body
	}
	for _, tc := range []struct {
		host, path string
		want       int
	}{
		{"api.example.com", "/bookstore/v1/shelves/1", http.StatusOK},
		{"API.Example.com:8443", "/bookstore/v1/shelves/1", http.StatusOK},
		{"api.example.com.", "/bookstore/v1/shelves/1", http.StatusOK},
		{"eu.shop.example.com", "/bookstore/v1/shelves/1", http.StatusOK},
		{"shop.example.com", "/bookstore/v1/shelves/1", http.StatusNotFound},
		{"a.eu.shop.example.com", "/bookstore/v1/shelves/1", http.StatusNotFound},
		{"other.example.com", "/bookstore/v1/shelves/1", http.StatusNotFound},
		{"api.example.com", "/v1/shelves/1", http.StatusNotFound},
	} {
		code, body := restGet(tc.host, tc.path)
		if code != tc.want {
			t.Errorf("GET %s (Host %s): got %d %s, want %d", tc.path, tc.host, code, truncate(body), tc.want)
		}
		if code == http.StatusNotFound && !isJSONError(body) {
			t.Errorf("GET %s (Host %s): got %s, want a JSON error", tc.path, tc.host, truncate(body))
		}
	}

	for _, tc := range []struct {
		authority string
		want      codes.Code
	}{
		{"api.example.com", codes.OK},
		{"api.example.com:443", codes.OK},
		{"x.shop.example.com", codes.OK},
		{"other.example.com", codes.Unimplemented},
		{"127.0.0.1", codes.Unimplemented},
	} {
		conn, err := grpc.NewClient(env.Server.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithAuthority(tc.authority))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err = bookstorev1.NewBookstoreServiceClient(conn).GetShelf(ctx, &bookstorev1.GetShelfRequest{Shelf: 1})
		cancel()
		conn.Close()
		if status.Code(err) != tc.want {
			t.Errorf("gRPC GetShelf with :authority %s: got %v, want %v", tc.authority, err, tc.want)
		}
	}

	// The document: any host serves it (it is not an API's route).
	code, body := restGet("docs.example.com", "/openapi.json")
	if code != http.StatusOK {
		t.Fatalf("GET /openapi.json: got %d %s", code, truncate(body))
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Servers []struct {
				URL string `json:"url"`
			} `json:"servers"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	op, ok := doc.Paths["/bookstore/v1/shelves/{shelf}"]["get"]
	if !ok {
		t.Fatalf("the document has no GET /bookstore/v1/shelves/{shelf}; paths: %v", keys(doc.Paths))
	}
	var urls []string
	for _, s := range op.Servers {
		urls = append(urls, s.URL)
	}
	if got, want := strings.Join(urls, " "), "https://api.example.com https://{subdomain}.shop.example.com"; got != want {
		t.Errorf("GetShelf's servers: got %s, want %s", got, want)
	}
	if _, ok := doc.Paths["/v1/shelves/{shelf}"]; ok {
		t.Error("the document has the path without its base path")
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
