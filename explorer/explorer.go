// Package explorer is the API explorer page: a small, dependency-free page
// that reads the gateway's live OpenAPI document, lists its operations
// with their parameters and schemas, and sends requests to the gateway.
// Its assets are embedded in the binary, so it works offline (no CDN), and
// its Content-Security-Policy lets it load nothing from elsewhere.
//
// Hand-written rather than Swagger UI or RapiDoc: those are megabytes of
// minified third-party JavaScript that would have to be vendored into this
// repository (the build has no network) and reviewed as ours; this page is
// a few hundred readable lines, knows Portico's extensions (streaming,
// multi-segment path variables) and shows server streams line by line.
package explorer

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"
)

//go:embed assets
var assets embed.FS

// Options place the page.
type Options struct {
	// Path is where the page is served, e.g. /docs; its assets are under
	// Path + "/".
	Path string
	// OpenAPI is the path of the OpenAPI document the page reads.
	OpenAPI string
	// Title heads the page.
	Title string
}

// Page serves the explorer.
type Page struct {
	path  string
	files map[string]file // by request path
}

type file struct {
	body        []byte
	contentType string
	etag        string
}

// csp lets the page load its own script and style and talk to its own
// origin, and nothing else.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// New renders the page for opts.
func New(opts Options) (*Page, error) {
	if !strings.HasPrefix(opts.Path, "/") || strings.HasSuffix(opts.Path, "/") && opts.Path != "/" {
		return nil, fmt.Errorf("explorer path %q must start with / and not end with one", opts.Path)
	}
	if !strings.HasPrefix(opts.OpenAPI, "/") {
		return nil, fmt.Errorf("OpenAPI path %q must start with /", opts.OpenAPI)
	}
	if opts.Title == "" {
		opts.Title = "API explorer"
	}
	base := strings.TrimSuffix(opts.Path, "/")
	tpl, err := template.ParseFS(assets, "assets/index.html")
	if err != nil {
		return nil, err
	}
	var page bytes.Buffer
	if err := tpl.Execute(&page, map[string]string{"Title": opts.Title, "Base": base, "OpenAPI": opts.OpenAPI}); err != nil {
		return nil, err
	}
	p := &Page{path: opts.Path, files: map[string]file{}}
	p.add(opts.Path, page.Bytes(), "text/html; charset=utf-8")
	for name, ct := range map[string]string{"explorer.js": "text/javascript; charset=utf-8", "explorer.css": "text/css; charset=utf-8"} {
		b, err := assets.ReadFile("assets/" + name)
		if err != nil {
			return nil, err
		}
		p.add(base+"/"+name, b, ct)
	}
	return p, nil
}

func (p *Page) add(path string, body []byte, ct string) {
	sum := sha256.Sum256(body)
	p.files[path] = file{body: body, contentType: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
}

// Route returns the path Match matched, for metrics and logs (a fixed
// set), or "".
func (p *Page) Route(path string) string {
	if _, ok := p.files[path]; ok {
		return path
	}
	return ""
}

// ServeHTTP serves the page and its assets (GET and HEAD; others are 405).
func (p *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f, ok := p.files[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("ETag", f.etag)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	if r.URL.Path == p.path {
		h.Set("Content-Security-Policy", csp)
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
}
