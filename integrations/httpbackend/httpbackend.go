// Package httpbackend is the http integration: a public HTTP/JSON backend.
// It serves two things:
//
//   - proto methods (reverse transcoding): the request message is sent as
//     proto3 JSON to the method's HTTP rule re-rooted at the integration's
//     URL — path variables from the message, the rule's body as the body,
//     the other fields as query parameters — and the JSON answer is decoded
//     into the response message; HTTP statuses become gRPC codes. So gRPC
//     clients (and the REST door) can call a REST service.
//   - plain HTTP routes (routes[] in the config): requests under a prefix
//     proxied as they are with net/http/httputil.ReverseProxy (Proxy).
//
// One http.Transport per integration, shared by its methods and routes and
// kept across reloads while its settings do not change.
package httpbackend

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/portico-gw/portico/catalog"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/integrations"
	"github.com/portico-gw/portico/integrations/clienttls"
	"github.com/portico-gw/portico/integrations/guard"
	"github.com/portico-gw/portico/integrations/outlier"
	"github.com/portico-gw/portico/pool"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// maxResponseBytes bounds a backend's answer to a proto method (as
// grpcbackend bounds a gRPC backend's messages).
const maxResponseBytes = 64 << 20

// Integration is one HTTP backend, as one snapshot uses it.
type Integration struct {
	name       string
	base       *url.URL
	timeout    time.Duration
	timeoutSet bool // the config sets timeout (else it is the default)
	client     *http.Client
	rt         *transport
	release    func() error
	// guard bounds the calls in flight and holds each URL's circuit
	// breaker (nil: none).
	guard *guard.Guard
	// set is the URLs and their states; lb sends each attempt to one.
	set *endpointSet
	lb  *balancer
}

var _ integrations.Backend = (*Integration)(nil)

// transport is the pooled connection pool to a backend.
type transport struct {
	*http.Transport
}

// Close closes the idle connections (those in use close when done).
func (t *transport) Close() error {
	t.CloseIdleConnections()
	return nil
}

// Factory builds an http integration from its config: absolute http or
// https URLs (url, or several in urls: one scheme and base path, other
// hosts), TLS files that can be read. An unset timeout means
// integrations.DefaultTimeout; `timeout: 0s` turns it off. For proto
// methods the timeout bounds the whole call (a smaller client deadline
// wins); for routes, the wait for the backend's response headers (a
// response that has started is not cut).
func Factory(env integrations.Env, in *configv1.Integration) (integrations.Backend, error) {
	h := in.GetHttp()
	gs, err := guard.SettingsFrom(h)
	if err != nil {
		return nil, err
	}
	urls, bases, err := parseURLs(h)
	if err != nil {
		return nil, err
	}
	if h.GetTls() != nil && bases[0].Scheme != "https" {
		return nil, errors.New("http.tls: set for an http:// URL (use https://)")
	}
	timeout := integrations.DefaultTimeout
	if h.Timeout != nil {
		timeout = h.GetTimeout().AsDuration()
	}
	var tlsSrc *clienttls.Source
	if h.GetTls() != nil {
		if tlsSrc, err = clienttls.New(h.GetTls(), env.Resolve); err != nil {
			return nil, err
		}
	}
	open := func() (*transport, error) { return newTransport(tlsSrc, timeout), nil }
	i := &Integration{name: in.GetName(), base: bases[0], timeout: timeout, timeoutSet: h.Timeout != nil}
	gp := env.Pool
	if env.Check {
		gp = nil
	}
	g, releaseGuard, err := guard.Acquire(gp, in.GetName(), urls, gs)
	if err != nil {
		return nil, err
	}
	i.guard = g
	set, releaseSet, err := acquireSet(env, in.GetName(), h, urls, bases, tlsSrc)
	if err != nil {
		return nil, errors.Join(err, releaseGuard())
	}
	if env.Pool == nil {
		i.rt, _ = open()
		i.release = i.rt.Close
	} else {
		key, err := poolKey(in.GetName(), h, timeout, env.Resolve)
		if err != nil {
			return nil, err
		}
		rt, lease, err := pool.Acquire(env.Pool, key, open)
		if err != nil {
			return nil, err
		}
		i.rt, i.release = rt, lease.Release
	}
	release := i.release
	i.release = func() error { return errors.Join(release(), releaseSet(), releaseGuard()) }
	i.set = set
	i.lb = &balancer{rt: i.rt, set: set, guard: g}
	if r := h.GetRetry(); r != nil {
		i.lb.retry, _ = retrySettings(r) // checked by acquireSet
	}
	i.client = &http.Client{
		Transport: i.lb,
		// A backend's redirect is its answer (mapped to a status), not
		// followed: the gateway does not wander to other hosts.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return i, nil
}

// parseURLs reads url or urls: each an absolute http(s) URL without
// query, fragment or user info; several share one scheme and base path.
func parseURLs(h *configv1.HttpIntegration) ([]string, []*url.URL, error) {
	field, urls := "http.url", []string{h.GetUrl()}
	switch {
	case h.GetUrl() != "" && len(h.GetUrls()) > 0:
		return nil, nil, errors.New("http: set url or urls, not both")
	case len(h.GetUrls()) > 0:
		field, urls = "http.urls", h.GetUrls()
	case h.GetUrl() == "":
		return nil, nil, errors.New("http.url is required")
	}
	bases := make([]*url.URL, len(urls))
	for k, raw := range urls {
		where := field
		if field == "http.urls" {
			where = fmt.Sprintf("%s[%d]", field, k)
		}
		u, err := url.Parse(raw)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %v", where, err)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, nil, fmt.Errorf("%s: %q is not an absolute http:// or https:// URL", where, raw)
		}
		if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return nil, nil, fmt.Errorf("%s: %q: no query, fragment or user info (the base of every call)", where, raw)
		}
		if k > 0 && (u.Scheme != bases[0].Scheme || u.EscapedPath() != bases[0].EscapedPath()) {
			return nil, nil, fmt.Errorf("%s: %q: every URL has the first's scheme and path (%s://…%s): replicas of one backend", where, raw, bases[0].Scheme, bases[0].EscapedPath())
		}
		for j := range k {
			if bases[j].Host == u.Host {
				return nil, nil, fmt.Errorf("%s: %q: the host is listed twice", where, raw)
			}
		}
		bases[k] = u
	}
	return urls, bases, nil
}

// acquireSet checks the settings of the endpoint set (health check,
// outlier detection, retry) and returns it from the pool (made and its
// health checks started once per settings), with its lease's release.
// A checked build (env.Check) or one without a pool starts nothing that
// outlives it: without a pool the set is the integration's own.
func acquireSet(env integrations.Env, name string, h *configv1.HttpIntegration, urls []string, bases []*url.URL, src *clienttls.Source) (*endpointSet, func() error, error) {
	var (
		interval, timeout time.Duration
		err               error
	)
	if hc := h.GetHealthCheck(); hc != nil {
		if interval, timeout, err = healthSettings(hc); err != nil {
			return nil, nil, err
		}
	}
	if r := h.GetRetry(); r != nil {
		if _, err := retrySettings(r); err != nil {
			return nil, nil, err
		}
	}
	open := func() (*endpointSet, error) {
		s := &endpointSet{name: name, urls: urls, down: make([]atomic.Bool, len(urls)), seen: make([]atomic.Pointer[string], len(urls))}
		for _, b := range bases {
			s.hosts = append(s.hosts, b.Host)
		}
		if od := h.GetOutlierDetection(); od != nil {
			s.eject = outlier.NewEjector(len(urls), outlier.From(od), nil, s.healthy)
		}
		if h.GetRetry() != nil {
			s.budget = newBudget()
		}
		if h.GetHealthCheck() != nil && !env.Check {
			s.check = newChecker(newTransport(src, timeout), bases, h.GetHealthCheck().GetPath(), interval, timeout, s.down)
			s.check.start()
		}
		return s, nil
	}
	if env.Pool == nil || env.Check {
		s, _ := open()
		return s, s.Close, nil
	}
	key, err := setKey(name, h, env.Resolve)
	if err != nil {
		return nil, nil, err
	}
	s, lease, err := pool.Acquire(env.Pool, key, open)
	if err != nil {
		return nil, nil, err
	}
	return s, lease.Release, nil
}

var _ integrations.Factory = Factory

func newTransport(src *clienttls.Source, headerTimeout time.Duration) *transport {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	t := &http.Transport{
		Proxy:                 nil, // the backend is reached directly, whatever the environment says
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: headerTimeout,
		ExpectContinueTimeout: time.Second,
	}
	if src != nil {
		t.DialTLSContext = src.DialTLS(d)
	}
	return &transport{Transport: t}
}

// poolKey encodes the settings a transport is made with.
func poolKey(name string, h *configv1.HttpIntegration, timeout time.Duration, resolve func(string) string) (string, error) {
	shape := &configv1.HttpIntegration{Tls: resolvedTLS(h.GetTls(), resolve)}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(shape)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("http/%s/%s/%d", name, hex.EncodeToString(b), timeout), nil
}

// resolvedTLS is a copy of t with its files' paths made absolute (nil
// for nil): what a pool key says of the TLS settings.
func resolvedTLS(t *configv1.ClientTls, resolve func(string) string) *configv1.ClientTls {
	if t == nil {
		return nil
	}
	out := proto.Clone(t).(*configv1.ClientTls)
	for _, f := range []*string{&out.CaFile, &out.CertFile, &out.KeyFile} {
		if *f != "" && resolve != nil {
			*f = resolve(*f)
		}
	}
	return out
}

// Name is the integration's name.
func (i *Integration) Name() string { return i.name }

// URL is the base URL calls are made under.
func (i *Integration) URL() *url.URL { u := *i.base; return &u }

// Check says whether m can be sent to an HTTP backend: it needs an HTTP
// binding (the rule gives the path, the body and the query), and one
// request and one response (no client stream; a server stream is read
// as grpc-gateway writes it, one JSON object per line).
func (i *Integration) Check(m *catalog.Method) error {
	if len(m.Bindings()) == 0 {
		return errors.New("an http integration needs the method's HTTP rule (google.api.http) to call it; the method has none")
	}
	if m.Desc().IsStreamingClient() {
		return errors.New("an http integration cannot send a client stream")
	}
	return nil
}

// Close drops this snapshot's hold on the transport.
func (i *Integration) Close() error { return i.release() }

// String names the integration for logs.
func (i *Integration) String() string { return fmt.Sprintf("http integration %q", i.name) }

// Unary sends the call to the backend and decodes its answer.
func (i *Integration) Unary(ctx context.Context, m *catalog.Method, req proto.Message) (_ proto.Message, err error) {
	leave, err := i.guard.Hold(ctx, true)
	if err != nil {
		return nil, err
	}
	a := &attempt{}
	ctx = withAttempt(ctx, a)
	defer func() { a.end(err); leave(err) }()
	ctx, cancel := integrations.WithTimeout(ctx, i.CallTimeout(m))
	defer cancel()
	resp, err := i.send(ctx, m, req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if md := responseMetadata(resp.Header); len(md) > 0 {
		_ = grpc.SetHeader(ctx, md)
	}
	return decodeResponse(resp, m)
}

// Stream serves a server-streaming method: the request is sent as for a
// unary call and the answer read as newline-delimited JSON, each line a
// {"result": message} (or {"error": status}) as grpc-gateway writes them.
func (i *Integration) Stream(ctx context.Context, m *catalog.Method, ss grpc.ServerStream) (err error) {
	if m.Desc().IsStreamingClient() {
		return status.Error(codes.Unimplemented, "an http integration cannot send a client stream")
	}
	leave, err := i.guard.Hold(ctx, false)
	if err != nil {
		return err
	}
	a := &attempt{}
	ctx = withAttempt(ctx, a)
	defer func() { a.end(err); leave(err) }()
	ctx, cancel := integrations.WithTimeout(ctx, i.CallTimeout(m))
	defer cancel()
	req := m.Input().New().Interface()
	if err := ss.RecvMsg(req); err != nil {
		return err
	}
	resp, err := i.send(ctx, m, req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if md := responseMetadata(resp.Header); len(md) > 0 {
		_ = ss.SetHeader(md)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// Refused before any result (no stream was opened): the REST
		// door answers it as a plain error with its HTTP status.
		return errorFromResponse(resp)
	}
	catalog.StreamOpened(ss.Context())
	return readStream(resp.Body, m, ss)
}

// send makes the HTTP request for a call and returns the backend's
// response, or the status of a call that got none.
func (i *Integration) send(ctx context.Context, m *catalog.Method, req proto.Message) (*http.Response, error) {
	hreq, err := buildRequest(ctx, i.base, m.Bindings()[0], req)
	if err != nil {
		return nil, err
	}
	resp, err := i.client.Do(hreq)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			if _, ok := status.FromError(ue.Err); ok {
				return nil, ue.Err // a refusal, or no URL to send it to
			}
		}
		return nil, transportError(ctx, err)
	}
	return resp, nil
}

// transportError is the status of a call the backend did not answer: the
// context's when it ended, otherwise UNAVAILABLE with no address in it.
func transportError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return status.FromContextError(ctx.Err()).Err()
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return status.Error(codes.DeadlineExceeded, "backend timeout")
	}
	return integrations.Unavailable
}

// Endpoints reports each URL's circuit breaker and state (healthy,
// ejected, unhealthy); nil for one URL that no breaker, health check or
// outlier ejection judges.
func (i *Integration) Endpoints() []integrations.Endpoint { return i.set.endpoints(i.guard) }

// CallTimeout is the deadline a call of a unary method m gets before the
// client's own: the shortest of the method's, the API's and the
// integration's timeout (its default counts only when neither is set).
// A server stream gets only its methods[].timeout.
func (i *Integration) CallTimeout(m *catalog.Method) time.Duration {
	if m.Streaming() {
		return m.Timeout()
	}
	return integrations.CallTimeout(m, i.timeout, i.timeoutSet)
}
