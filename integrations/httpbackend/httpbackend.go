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
	"time"

	"github.com/portico-gw/portico/catalog"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/integrations"
	"github.com/portico-gw/portico/integrations/clienttls"
	"github.com/portico-gw/portico/integrations/guard"
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
	// guard bounds the calls in flight and holds the URL's circuit
	// breaker (nil: none).
	guard *guard.Guard
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

// Factory builds an http integration from its config: an absolute http or
// https URL, TLS files that can be read. An unset timeout means
// integrations.DefaultTimeout; `timeout: 0s` turns it off. For proto
// methods the timeout bounds the whole call (a smaller client deadline
// wins); for routes, the wait for the backend's response headers (a
// response that has started is not cut).
func Factory(env integrations.Env, in *configv1.Integration) (integrations.Backend, error) {
	h := in.GetHttp()
	if h.GetUrl() == "" {
		return nil, errors.New("http.url is required")
	}
	gs, err := guard.SettingsFrom(h)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(h.GetUrl())
	if err != nil {
		return nil, fmt.Errorf("http.url: %v", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("http.url: %q is not an absolute http:// or https:// URL", h.GetUrl())
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("http.url: %q: no query, fragment or user info (the base of every call)", h.GetUrl())
	}
	if h.GetTls() != nil && u.Scheme != "https" {
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
	i := &Integration{name: in.GetName(), base: u, timeout: timeout, timeoutSet: h.Timeout != nil}
	gp := env.Pool
	if env.Check {
		gp = nil
	}
	g, releaseGuard, err := guard.Acquire(gp, in.GetName(), []string{h.GetUrl()}, gs)
	if err != nil {
		return nil, err
	}
	i.guard = g
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
	if release := i.release; !gs.Zero() {
		i.release = func() error { return errors.Join(release(), releaseGuard()) }
	}
	i.client = &http.Client{
		Transport: i.rt,
		// A backend's redirect is its answer (mapped to a status), not
		// followed: the gateway does not wander to other hosts.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return i, nil
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
	shape := &configv1.HttpIntegration{}
	if h.GetTls() != nil {
		shape.Tls = proto.Clone(h.GetTls()).(*configv1.ClientTls)
		for _, f := range []*string{&shape.Tls.CaFile, &shape.Tls.CertFile, &shape.Tls.KeyFile} {
			if *f != "" && resolve != nil {
				*f = resolve(*f)
			}
		}
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(shape)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("http/%s/%s/%d", name, hex.EncodeToString(b), timeout), nil
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
	done, err := i.guard.Admit(ctx, 0, true)
	if err != nil {
		return nil, err
	}
	defer func() { done(err) }()
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
	done, err := i.guard.Admit(ctx, 0, false)
	if err != nil {
		return err
	}
	defer func() { done(err) }()
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

// Endpoints reports the URL's circuit breaker state (nil without a limit
// or breaker).
func (i *Integration) Endpoints() []integrations.Endpoint { return i.guard.Endpoints() }

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
