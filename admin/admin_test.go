package admin_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portico-gw/portico/admin"
	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/config"
	adminv1 "github.com/portico-gw/portico/gen/portico/admin/v1"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

func TestRedact(t *testing.T) {
	cfg := &configv1.Config{
		Apis: []*configv1.Api{{
			Services: []string{"a.B"},
			Request:  &configv1.RequestMapping{SetMetadata: map[string]string{"x-key": "k1", "authorization": "Bearer t1"}},
		}},
		Integrations: []*configv1.Integration{{Name: "legacy", Kind: &configv1.Integration_Http{Http: &configv1.HttpIntegration{Url: "https://svc:p4ss@legacy.example.com/api"}}}},
		Admin:        &configv1.Admin{TokenFile: "/etc/portico/admin.token"},
		RateLimits:   &configv1.RateLimits{Redis: &configv1.Redis{Address: "redis:6379", PasswordFile: "/etc/redis.pass"}},
	}
	st, paths, err := admin.Redact(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`apis[0].request.set_metadata["authorization"]`, `apis[0].request.set_metadata["x-key"]`, "integrations[0].http.url"}
	if strings.Join(paths, " ") != strings.Join(want, " ") {
		t.Errorf("redacted: got %v, want %v", paths, want)
	}
	b, err := st.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, secret := range []string{"k1", "t1", "p4ss"} {
		if strings.Contains(text, `"`+secret+`"`) || strings.Contains(text, ":"+secret+"@") || strings.Contains(text, " "+secret) {
			t.Errorf("the rendered config holds %q: %s", secret, text)
		}
	}
	// Where secrets are kept is not a secret.
	for _, kept := range []string{"/etc/portico/admin.token", "/etc/redis.pass", "https://svc:xxxxx@legacy.example.com/api"} {
		if !strings.Contains(text, kept) {
			t.Errorf("the rendered config lost %q: %s", kept, text)
		}
	}
	if cfg.GetApis()[0].GetRequest().GetSetMetadata()["x-key"] != "k1" {
		t.Errorf("Redact changed the config it was given")
	}
}

// TestRedactByName: fields added later whose names say they hold a secret
// are redacted without a change here; the _file fields are not.
func TestRedactByName(t *testing.T) {
	fdp := &descriptorpb.FileDescriptorProto{
		Name:    proto.String("secrets.proto"),
		Package: proto.String("s"),
		Syntax:  proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{{
			Name: proto.String("S"),
			Field: []*descriptorpb.FieldDescriptorProto{
				{Name: proto.String("client_secret"), Number: proto.Int32(1), Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum(), JsonName: proto.String("clientSecret")},
				{Name: proto.String("password_file"), Number: proto.Int32(2), Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum(), JsonName: proto.String("passwordFile")},
				{Name: proto.String("pin"), Number: proto.Int32(3), Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum(), JsonName: proto.String("pin"),
					Options: &descriptorpb.FieldOptions{DebugRedact: proto.Bool(true)}},
				{Name: proto.String("name"), Number: proto.Int32(4), Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum(), JsonName: proto.String("name")},
			},
		}},
	}
	fd, err := protodesc.NewFile(fdp, nil)
	if err != nil {
		t.Fatal(err)
	}
	md := fd.Messages().Get(0)
	m := dynamicpb.NewMessage(md)
	for name, v := range map[string]string{"client_secret": "cs", "password_file": "/pf", "pin": "1234", "name": "n"} {
		m.Set(md.Fields().ByName(protoreflect.Name(name)), protoreflect.ValueOfString(v))
	}
	st, paths, err := admin.Redact(m)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(paths, " ") != "client_secret pin" {
		t.Errorf("redacted: got %v, want [client_secret pin]", paths)
	}
	f := st.GetFields()
	if f["client_secret"].GetStringValue() != admin.Redacted || f["pin"].GetStringValue() != admin.Redacted || f["password_file"].GetStringValue() != "/pf" || f["name"].GetStringValue() != "n" {
		t.Errorf("got %v", st)
	}
}

func TestHash(t *testing.T) {
	a := &configv1.Config{Apis: []*configv1.Api{{Services: []string{"a.B"}, Integration: "x"}}}
	b := proto.Clone(a).(*configv1.Config)
	ha := config.Hash(a)
	hb := config.Hash(b)
	if ha != hb || len(ha) != 64 {
		t.Errorf("equal configs: got %s and %s, want the same SHA-256", ha, hb)
	}
	b.Apis[0].Integration = "y"
	if hc := config.Hash(b); hc == ha {
		t.Errorf("different configs hash the same")
	}
}

func TestToken(t *testing.T) {
	tok := admin.NewToken("s3cret")
	for _, tc := range []struct {
		auth string
		ok   bool
	}{
		{"Bearer s3cret", true},
		{"bearer s3cret", true},
		{"Bearer  s3cret ", true},
		{"Bearer s3cre", false},
		{"Bearer s3cretx", false},
		{"Basic s3cret", false},
		{"s3cret", false},
		{"", false},
	} {
		if got := tok.Allows(tc.auth); got != tc.ok {
			t.Errorf("Allows(%q): got %v, want %v", tc.auth, got, tc.ok)
		}
	}
	if open := admin.NewToken(""); !open.Allows("") || open.Required() {
		t.Errorf("no token configured: want every call allowed")
	}
}

func TestTokenPolicyGate(t *testing.T) {
	st, err := admin.NewToken("s3cret").Policy().Stage(&catalog.Method{})
	if err != nil || st.Gate == nil {
		t.Fatalf("got %v %v, want a gate", st, err)
	}
	info := &call.Info{MD: metadata.Pairs("authorization", "Bearer nope")}
	if _, err := st.Gate(context.Background(), info); status.Code(err) != codes.Unauthenticated || info.Refusal != "auth" || info.ResponseHeader().Get("WWW-Authenticate") == "" {
		t.Errorf("wrong token: got %v refusal %q header %v, want UNAUTHENTICATED, auth, a challenge", err, info.Refusal, info.ResponseHeader())
	}
	info = &call.Info{MD: metadata.Pairs("authorization", "Bearer s3cret")}
	if _, err := st.Gate(context.Background(), info); err != nil {
		t.Errorf("right token: got %v", err)
	}
	if open, _ := admin.NewToken("").Policy().Stage(&catalog.Method{}); open.Gate != nil {
		t.Errorf("no token: got a gate, want none")
	}
}

func TestTokenHandler(t *testing.T) {
	h := admin.NewToken("s3cret").Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(299) }))
	for auth, want := range map[string]int{"": 401, "Bearer no": 401, "Bearer s3cret": 299} {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("Authorization %q: got %d, want %d", auth, rec.Code, want)
		}
	}
}

func TestReadToken(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if tok, err := admin.ReadToken(write("ok", "  abc\n")); err != nil || tok != "abc" {
		t.Errorf("got %q %v, want abc", tok, err)
	}
	for name, content := range map[string]string{"empty": "\n", "spaces": "a b"} {
		if _, err := admin.ReadToken(write(name, content)); err == nil {
			t.Errorf("token file %q: got no error", content)
		}
	}
	if _, err := admin.ReadToken(filepath.Join(dir, "missing")); err == nil {
		t.Errorf("missing token file: got no error")
	}
}

// fakeGateway is a Gateway for the service's own tests.
type fakeGateway struct {
	admin.Gateway
	reloadErr error
	drained   int
}

func (f *fakeGateway) Reload(context.Context) error { return f.reloadErr }
func (f *fakeGateway) Drain()                       { f.drained++ }
func (f *fakeGateway) DrainStatus() admin.Drain     { return admin.Drain{Draining: f.drained > 0} }

func TestReloadErrorsAreFailedPrecondition(t *testing.T) {
	for _, err := range []error{admin.ErrNoReload, errors.New("apis[0].integration: unknown")} {
		s := admin.New(&fakeGateway{reloadErr: err}, nil)
		_, got := s.Reload(context.Background(), &adminv1.ReloadRequest{})
		if status.Code(got) != codes.FailedPrecondition || !strings.Contains(status.Convert(got).Message(), err.Error()) {
			t.Errorf("reload failing with %v: got %v, want FAILED_PRECONDITION with its text", err, got)
		}
	}
}

func TestDrainStartsTheDrain(t *testing.T) {
	gw := &fakeGateway{}
	st, err := admin.New(gw, nil).Drain(context.Background(), &adminv1.DrainRequest{})
	if err != nil || !st.GetDraining() || gw.drained != 1 {
		t.Errorf("got %v %v, drained %d times; want draining, once", st, err, gw.drained)
	}
}

// TestRedactURLUserInfo: a URL's user info is hidden wherever a URL is
// written — a token given as the user name too, and a Redis URL's
// password without a user.
func TestRedactURLUserInfo(t *testing.T) {
	cfg := &configv1.Config{
		Auth: &configv1.Auth{Providers: []*configv1.AuthProvider{{Name: "idp", Kind: &configv1.AuthProvider_Jwt{Jwt: &configv1.JwtProvider{
			Issuer: "https://t0ken@idp.example/", JwksUri: "https://idp.example/keys"}}}}},
		RateLimits: &configv1.RateLimits{Redis: &configv1.Redis{Address: "redis://:r3dis@cache:6379"}},
	}
	st, paths, err := admin.Redact(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(paths, " "), "auth.providers[0].jwt.issuer rate_limits.redis.address"; got != want {
		t.Errorf("redacted: got %q, want %q", got, want)
	}
	b, _ := st.MarshalJSON()
	for _, want := range []string{"https://xxxxx@idp.example/", "redis://:xxxxx@cache:6379", "https://idp.example/keys"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the rendered config lacks %q: %s", want, b)
		}
	}
	if strings.Contains(string(b), "t0ken") || strings.Contains(string(b), "r3dis") {
		t.Errorf("the rendered config holds a secret: %s", b)
	}
}
