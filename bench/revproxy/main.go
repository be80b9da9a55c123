// Command revproxy is the reference point of the routes benchmark:
// net/http/httputil.ReverseProxy alone, doing what a Portico route does
// (strip the prefix, join the backend's path, extend X-Forwarded-For, set
// X-Forwarded-Host/Proto) with the same transport settings as Portico's
// http integration, and nothing else.
//
//	revproxy -backend http://127.0.0.1:8081 -prefix /legacy/ -listen 127.0.0.1:0
//
// It prints "listening on ADDR" once it accepts connections and stops on
// SIGINT or SIGTERM.
package main

import (
	"flag"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/lifecycle"
)

func main() {
	backend := flag.String("backend", "", "backend URL")
	prefix := flag.String("prefix", "/legacy/", "path prefix removed before forwarding")
	listen := flag.String("listen", "127.0.0.1:0", "listen address (host:port)")
	flag.Parse()
	target, err := url.Parse(*backend)
	if err != nil || target.Host == "" {
		log.Fatalf("revproxy: -backend: %q is not a URL", *backend)
	}
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	strip := strings.TrimSuffix(*prefix, "/")
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Path = "/" + strings.TrimPrefix(strings.TrimPrefix(pr.Out.URL.Path, strip), "/")
			pr.Out.URL.RawPath = ""
			pr.SetURL(target)
			if xff := pr.In.Header.Values("X-Forwarded-For"); len(xff) > 0 {
				pr.Out.Header["X-Forwarded-For"] = append([]string(nil), xff...)
			}
			pr.SetXForwarded()
		},
		Transport: &http.Transport{
			DialContext: d.DialContext, ForceAttemptHTTP2: true, MaxIdleConns: 256, MaxIdleConnsPerHost: 256,
			IdleConnTimeout: 90 * time.Second, TLSHandshakeTimeout: 10 * time.Second,
			ResponseHeaderTimeout: 30 * time.Second, ExpectContinueTimeout: time.Second,
		},
	}
	if err := lifecycle.ListenAndServe(*listen, rp); err != nil {
		log.Fatalf("revproxy: %v", err)
	}
}
