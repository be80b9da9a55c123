package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// The syntax of addresses, targets and URLs is checked here, when the
// file is read, so that a typo is a config error rather than a listener
// that fails to bind or a backend that is silently unavailable at run time.
// The standard library parses IP addresses, host:port pairs and URLs; it
// keeps its host-name check unexported (net.isDomainName) and protovalidate
// offers its own only inside CEL rules, so the host-name rule of RFC 1123
// is written out in validHostname.

// listenAddress returns what is wrong with a listen address ("host:port";
// the host may be empty, for every interface, and the port 0, for any
// free port), or "".
func listenAddress(addr string) string {
	host, port, msg := splitHostPort(addr)
	if msg != "" {
		return msg
	}
	if msg := checkPort(addr, port, true); msg != "" {
		return msg
	}
	if host == "" {
		return ""
	}
	return checkHost(addr, host)
}

// hostPort returns what is wrong with the address of a server Portico
// calls ("host:port" with a host and a port from 1 to 65535), or "".
func hostPort(addr string) string {
	host, port, msg := splitHostPort(addr)
	if msg != "" {
		return msg
	}
	if host == "" {
		return fmt.Sprintf("%q has no host", addr)
	}
	if msg := checkPort(addr, port, false); msg != "" {
		return msg
	}
	return checkHost(addr, host)
}

// grpcTarget returns what is wrong with a grpc-go target, or "". The forms
// accepted are those grpc-go resolves without extra registrations:
// host:port, dns:///host:port (dns://server/host:port), passthrough:///host:port,
// unix:path, unix:///absolute/path and unix-abstract:name.
func grpcTarget(target string) string {
	const forms = "grpc targets are host:port, dns:///host:port, unix:///path or unix:path"
	scheme, rest, ok := strings.Cut(target, ":")
	if !ok {
		return fmt.Sprintf("%q has no port (%s)", target, forms)
	}
	switch strings.ToLower(scheme) {
	case "http", "https", "grpc", "grpcs", "h2c", "tcp":
		// A URL where a target is wanted: say what to write instead.
		u, err := url.Parse(target)
		if err == nil && u.Host != "" {
			return fmt.Sprintf("%q is a URL, not a grpc target: write %s (%s; for TLS, set tls)", target, u.Host, forms)
		}
		return fmt.Sprintf("%q is a URL, not a grpc target (%s)", target, forms)
	case "unix", "unix-abstract":
		path := strings.TrimPrefix(rest, "//")
		if path == "" || path == "/" {
			return fmt.Sprintf("%q has no socket path (unix:///absolute/path or unix:relative/path)", target)
		}
		return ""
	case "dns", "passthrough":
		if !strings.HasPrefix(rest, "//") {
			return fmt.Sprintf("%q: write %s:///%s (three slashes: the authority is empty)", target, scheme, rest)
		}
		rest = strings.TrimPrefix(rest, "//")
		authority, endpoint, ok := strings.Cut(rest, "/") // an authority (a DNS server) may come first
		if !ok {
			return fmt.Sprintf("%q: write %s:///%s (with two slashes, %q is the DNS server to ask)", target, scheme, authority, authority)
		}
		if endpoint == "" {
			return fmt.Sprintf("%q has no host:port after %s:///", target, scheme)
		}
		return hostPort(endpoint)
	}
	if strings.Contains(rest, "://") || strings.HasPrefix(rest, "//") {
		return fmt.Sprintf("%q: unknown scheme %q (%s)", target, scheme, forms)
	}
	return hostPort(target)
}

// httpURL returns what is wrong with the base URL of an HTTP backend, or "".
func httpURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		msg := err.Error()
		if ue, ok := err.(*url.Error); ok {
			msg = ue.Err.Error()
		}
		return fmt.Sprintf("%q is not a URL (%s)", raw, msg)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		if u.Scheme == "" {
			return fmt.Sprintf("%q has no scheme: write http://%s or https://%s", raw, raw, raw)
		}
		return fmt.Sprintf("%q: the scheme must be http or https, not %q", raw, u.Scheme)
	case u.Host == "":
		return fmt.Sprintf("%q has no host", raw)
	case u.User != nil:
		return fmt.Sprintf("%q carries credentials; set them in the integration's request mapping instead", raw)
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Sprintf("%q: a base URL takes no query or fragment", raw)
	}
	host, port := u.Hostname(), u.Port()
	if port != "" || strings.HasSuffix(u.Host, ":") {
		if msg := checkPort(raw, port, false); msg != "" {
			return msg
		}
	}
	return checkHost(raw, host)
}

// fetchURL returns what is wrong with a URL the gateway fetches documents
// from (a JWKS, an OpenID issuer), or "": an absolute http(s) URL with a
// host and no credentials; a query is allowed.
func fetchURL(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		msg := err.Error()
		if ue, ok := err.(*url.Error); ok {
			msg = ue.Err.Error()
		}
		return fmt.Sprintf("%q is not a URL (%s)", raw, msg)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Sprintf("%q: the scheme must be http or https", raw)
	case u.Host == "":
		return fmt.Sprintf("%q has no host", raw)
	case u.User != nil:
		return fmt.Sprintf("%q carries credentials in the URL", raw)
	}
	return ""
}

// splitHostPort splits host:port, wording the standard library's error.
func splitHostPort(addr string) (host, port, msg string) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		reason := err.Error()
		if ae, ok := err.(*net.AddrError); ok {
			reason = ae.Err
		}
		return "", "", fmt.Sprintf("%q is not host:port (%s)", addr, reason)
	}
	return host, port, ""
}

// checkPort checks a port number; zero is allowed only for listeners.
func checkPort(addr, port string, zeroOK bool) string {
	if port == "" {
		return fmt.Sprintf("%q has no port after the colon", addr)
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return fmt.Sprintf("%q is not host:port (port %q is not a number from 0 to 65535)", addr, port)
	}
	if n == 0 && !zeroOK {
		return fmt.Sprintf("%q: port 0 cannot be called", addr)
	}
	return ""
}

// checkHost checks that host is an IP address or a valid host name.
func checkHost(addr, host string) string {
	if _, err := netip.ParseAddr(host); err == nil {
		return ""
	}
	if validHostname(host) {
		return ""
	}
	return fmt.Sprintf("%q: %q is not an IP address or a valid host name", addr, host)
}

// validHostname reports whether h is a host name by RFC 1123: dot-separated
// labels of 1 to 63 letters, digits and inner hyphens, at most 253
// characters in all (a final dot aside), and a last label that is not all
// digits — "999.0.0.1" is a mistyped IPv4 address, not a name.
func validHostname(h string) bool {
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	labels := strings.Split(h, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	last := labels[len(labels)-1]
	return strings.Trim(last, "0123456789") != ""
}
