package server_test

// gRPC-Web and Connect run the gRPC door's gates: auth (headers and the
// cookies of browsers), rate limits, request IDs; and the classification
// rule that tells them from REST.

import (
	"net/http"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"github.com/portico-gw/portico/auth/authtest"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
)

// webClients are one Connect and one gRPC-Web client choice.
var webClients = []struct {
	name string
	opts []connect.ClientOption
}{
	{"connect", []connect.ClientOption{connect.WithProtoJSON()}},
	{"grpc-web", []connect.ClientOption{connect.WithGRPCWeb()}},
}

func getBookClient(base string, opts ...connect.ClientOption) *connect.Client[bookstorev1.GetBookRequest, bookstorev1.Book] {
	return connect.NewClient[bookstorev1.GetBookRequest, bookstorev1.Book](servertest.Client(), base+bookstoreSvc+"GetBook", opts...)
}

func TestProtocolsAuth(t *testing.T) {
	e := startAuth(t, func(c *configv1.Config, _ *authtest.Issuer) {
		c.Auth.Providers[0].GetJwt().TokenSources = []*configv1.TokenSource{
			{Kind: &configv1.TokenSource_Header{Header: "Authorization"}, Prefix: "Bearer "},
			{Kind: &configv1.TokenSource_Cookie{Cookie: "session"}},
		}
	})
	tok := e.iss.Token(t, nil)
	for _, c := range webClients {
		t.Run(c.name, func(t *testing.T) {
			cl := getBookClient(e.URL, c.opts...)
			_, err := cl.CallUnary(callCtx(t), connect.NewRequest(&bookstorev1.GetBookRequest{Name: "shelves/1/books/1"}))
			if got := connect.CodeOf(err); got != connect.CodeUnauthenticated {
				t.Errorf("no token: got %v, want %v", err, connect.CodeUnauthenticated)
			}
			for _, h := range []struct{ name, value string }{{"Authorization", "Bearer " + tok}, {"Cookie", "theme=dark; session=" + tok}} {
				req := connect.NewRequest(&bookstorev1.GetBookRequest{Name: "shelves/1/books/1"})
				req.Header().Set(h.name, h.value)
				if _, err := cl.CallUnary(callCtx(t), req); err != nil {
					t.Errorf("token in %s: got %v, want OK", h.name, err)
				}
				md := e.rec.lastMD()
				if got := md.Get("x-user-id"); len(got) != 1 {
					t.Errorf("token in %s: the backend got x-user-id %q, want the token's subject", h.name, got)
				}
				for _, k := range []string{"authorization", "cookie", "grpcgateway-cookie"} {
					if v := md.Get(k); len(v) > 0 && strings.Contains(strings.Join(v, ";"), tok) {
						t.Errorf("token in %s: the backend got the token under %s", h.name, k)
					}
				}
			}
		})
	}
	// Connect maps Unauthenticated to 401 on the wire.
	req, _ := http.NewRequest(http.MethodPost, e.URL+bookstoreSvc+"GetBook", strings.NewReader(`{"name":"shelves/1/books/1"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Connect-Protocol-Version", "1")
	resp, body := do(t, req)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), `"code":"unauthenticated"`) {
		t.Errorf("Connect without a token: got %d %s, want 401 with a Connect error", resp.StatusCode, body)
	}
}

func TestProtocolsRateLimit(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Config: withRateLimits(perIP("2/h", 2))})
	for _, c := range webClients {
		t.Run(c.name, func(t *testing.T) {
			cl := getBookClient(env.URL, c.opts...)
			var err error
			for i := 0; i < 3 && err == nil; i++ {
				_, err = cl.CallUnary(callCtx(t), connect.NewRequest(&bookstorev1.GetBookRequest{Name: "shelves/1/books/1"}))
			}
			if got := connect.CodeOf(err); got != connect.CodeResourceExhausted {
				t.Errorf("over the limit: got %v, want %v", err, connect.CodeResourceExhausted)
			}
		})
	}
}

func TestProtocolsRequestIDOnce(t *testing.T) {
	rec, addr := startRecorder(t)
	env := servertest.StartGateway(t, addr, servertest.Options{})
	for _, c := range webClients {
		t.Run(c.name, func(t *testing.T) {
			resp, err := getBookClient(env.URL, c.opts...).CallUnary(callCtx(t), connect.NewRequest(&bookstorev1.GetBookRequest{Name: "shelves/1/books/1"}))
			if err != nil {
				t.Fatal(err)
			}
			got := resp.Header().Values("X-Request-Id")
			if len(got) != 1 || !isGenerated(got[0]) {
				t.Fatalf("response X-Request-Id: got %q, want one generated ID", got)
			}
			if sent := rec.lastMD().Get("x-request-id"); len(sent) != 1 || sent[0] != got[0] {
				t.Errorf("backend x-request-id: got %q, want [%s]", sent, got[0])
			}
		})
	}
}

// TestProtocolsClassification: a POST /pkg.Service/Method with JSON (a
// malformed one here: the error's shape tells who answered) is REST's
// default binding unless Connect-Protocol-Version or a Connect
// content type says Connect.
func TestProtocolsClassification(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
		c.Apis[0].DefaultBindings = true
	}})
	for _, tc := range []struct {
		name, ct, version, want string
	}{
		{"REST", "application/json", "", `"code":3`},
		{"Connect header", "application/json", "1", `"code":"invalid_argument"`},
		{"Connect header, odd case", "Application/JSON", "1", `"code":"invalid_argument"`},
	} {
		req, _ := http.NewRequest(http.MethodPost, env.URL+bookstoreSvc+"GetShelfStats", strings.NewReader(`{"shelf":"x"}`))
		req.Header.Set("Content-Type", tc.ct)
		if tc.version != "" {
			req.Header.Set("Connect-Protocol-Version", tc.version)
		}
		resp, body := do(t, req)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), tc.want) {
			t.Errorf("%s: got %d %s, want 400 with %s", tc.name, resp.StatusCode, body, tc.want)
		}
	}
	// Turned off, Connect requests are REST's again.
	off := false
	env = servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
		c.Apis[0].DefaultBindings = true
		c.Protocols = &configv1.Protocols{Connect: &off, GrpcWeb: &off}
	}})
	req, _ := http.NewRequest(http.MethodPost, env.URL+bookstoreSvc+"GetShelfStats", strings.NewReader(`{"shelf":"x"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Connect-Protocol-Version", "1")
	if resp, body := do(t, req); resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"code":3`) {
		t.Errorf("connect: false: got %d %s, want REST's 400", resp.StatusCode, body)
	}
	_, err := getBookClient(env.URL, connect.WithGRPCWeb()).CallUnary(callCtx(t), connect.NewRequest(&bookstorev1.GetBookRequest{Name: "shelves/1/books/1"}))
	if err == nil {
		t.Errorf("grpc_web: false: a gRPC-Web call succeeded")
	}
}

// TestProtocolsCORS: with cors set, a page's preflight for a gRPC-Web or
// Connect call is granted their headers, and the status is exposed.
func TestProtocolsCORS(t *testing.T) {
	const origin = "https://app.example.com"
	env := servertest.Start(t, servertest.Options{Config: func(c *configv1.Config) {
		c.Cors = &configv1.Cors{AllowedOrigins: []string{origin}}
	}})
	req, _ := http.NewRequest(http.MethodOptions, env.URL+bookstoreSvc+"GetBook", nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "connect-protocol-version,connect-timeout-ms,content-type,x-grpc-web,x-user-agent") // sorted, as browsers send it
	resp, body := do(t, req)
	allowed := strings.ToLower(strings.Join(resp.Header.Values("Access-Control-Allow-Headers"), ","))
	for _, h := range []string{"x-grpc-web", "x-user-agent", "connect-protocol-version", "connect-timeout-ms", "content-type"} {
		if !strings.Contains(allowed, h) {
			t.Errorf("preflight: %s not allowed (got %d, %v) %s", h, resp.StatusCode, resp.Header, body)
		}
	}
	req = connectRequest(t, env.URL)
	req.Header.Set("Origin", origin)
	resp, _ = do(t, req)
	exposed := strings.ToLower(strings.Join(resp.Header.Values("Access-Control-Expose-Headers"), ","))
	for _, h := range []string{"grpc-status", "grpc-message", "x-request-id"} {
		if !strings.Contains(exposed, h) {
			t.Errorf("answer: %s not exposed (Access-Control-Expose-Headers %q)", h, exposed)
		}
	}
}

// connectRequest is a Connect JSON GetBook request.
func connectRequest(t *testing.T, base string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+bookstoreSvc+"GetBook", strings.NewReader(`{"name":"shelves/1/books/1"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Connect-Protocol-Version", "1")
	return req
}
