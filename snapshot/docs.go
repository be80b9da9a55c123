package snapshot

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/explorer"
	"github.com/portico-gw/portico/openapi"
	"google.golang.org/grpc/codes"
)

// docsEdge serves the live API description on the REST door (docs:): the
// OpenAPI v3.1 document at docs.openapi_path and the API explorer at
// docs.explorer_path. Both are built with the snapshot, from its catalog
// and config, so a reload serves the new description with the new routes.
// They answer before routing, behind the network rules and CORS.
func docsEdge(s *Snapshot, next http.Handler) (http.Handler, error) {
	d := s.config.Config.GetDocs()
	docPath, pagePath := d.GetOpenapiPath(), d.GetExplorerPath()
	if docPath == "" && pagePath == "" {
		return next, nil
	}
	if pagePath != "" && docPath == "" {
		return nil, fmt.Errorf("docs.explorer_path: the explorer reads the OpenAPI document: set docs.openapi_path too")
	}
	if pagePath != "" && (pagePath == docPath || strings.HasPrefix(docPath, strings.TrimSuffix(pagePath, "/")+"/")) {
		return nil, fmt.Errorf("docs.openapi_path %q collides with docs.explorer_path %q and its assets", docPath, pagePath)
	}
	sum := s.hash
	doc, err := openapi.Build(s.catalog, openapi.Options{
		Title:       "Portico",
		Version:     sum[:12],
		Description: "The APIs this gateway serves, described from its live catalog (version: the config's hash).",
		Config:      s.config.Config,
	})
	if err != nil {
		return nil, fmt.Errorf("docs.openapi_path: %v", err)
	}
	body, err := openapi.JSON(doc)
	if err != nil {
		return nil, fmt.Errorf("docs.openapi_path: %v", err)
	}
	h := &docsHandler{next: next, onError: s.rest.WriteError, docPath: docPath, doc: body}
	bodySum := sha256.Sum256(body)
	h.etag = `"` + hex.EncodeToString(bodySum[:8]) + `"`
	if pagePath != "" {
		if h.page, err = explorer.New(explorer.Options{Path: pagePath, OpenAPI: docPath, Title: "Portico API explorer"}); err != nil {
			return nil, fmt.Errorf("docs.explorer_path: %v", err)
		}
	}
	return h, nil
}

type docsHandler struct {
	next    http.Handler
	onError func(http.ResponseWriter, *http.Request, error)
	docPath string
	doc     []byte
	etag    string
	page    *explorer.Page // nil: no explorer
}

func (h *docsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	route := ""
	switch {
	case r.URL.Path == h.docPath:
		route = h.docPath
	case h.page != nil:
		route = h.page.Route(r.URL.Path)
	}
	if route == "" {
		h.next.ServeHTTP(w, r)
		return
	}
	if info := call.FromContext(r.Context()); info != nil {
		info.Route = route
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		h.onError(w, r, call.Refuse(http.StatusMethodNotAllowed, codes.Unimplemented, "Method Not Allowed"))
		return
	}
	if route != h.docPath {
		h.page.ServeHTTP(w, r)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("ETag", h.etag)
	hd.Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(h.doc))
}
