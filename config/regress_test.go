package config

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"
)

// Regression tests: one per finding, named for it.

// loadString writes content to dir/portico.yaml and loads it by the
// relative name, as an operator in dir would.
func loadString(t *testing.T, content string) (*File, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "portico.yaml"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	return Load("portico.yaml")
}

// Issue 10: "listen.http: 999.0.0.1:80" passed validate and failed at run
// time.
func TestRegressListenHostNotAnIP(t *testing.T) {
	_, err := loadString(t, "listen:\n  http: 999.0.0.1:80\n")
	want := `portico.yaml:2:9: listen.http: "999.0.0.1:80": "999.0.0.1" is not an IP address or a valid host name`
	if err == nil || err.Error() != want {
		t.Errorf("Load: got %v, want %s", err, want)
	}
}

// Issue 10: "target: http://127.0.0.1:35051" passed validate and every
// call was a 503.
func TestRegressGRPCTargetURL(t *testing.T) {
	_, err := loadString(t, "integrations:\n  - name: b\n    grpc: {target: http://127.0.0.1:35051}\n")
	if err == nil || !strings.HasPrefix(err.Error(), `portico.yaml:3:20: integrations[0].grpc.target: "http://127.0.0.1:35051" is a URL, not a grpc target: write 127.0.0.1:35051`) {
		t.Errorf("Load: got %v, want the URL named as a mistake with the target to write", err)
	}
}

// Issue 10: `target: "127.0.0.1:"` (no port after the colon) passed validate.
func TestRegressEmptyPort(t *testing.T) {
	_, err := loadString(t, "integrations:\n  - name: b\n    grpc:\n      target: \"127.0.0.1:\"\n")
	want := `portico.yaml:4:15: integrations[0].grpc.target: "127.0.0.1:" has no port after the colon`
	if err == nil || err.Error() != want {
		t.Errorf("Load: got %v, want %s", err, want)
	}
}

// Issue 10: config errors named the key path but never the file, line or
// column.
func TestRegressErrorsNameFileLineColumn(t *testing.T) {
	_, err := loadString(t, "apis:\n  - services: [a.B]\n    integration: nope\n")
	var errs Errors
	if !asErrors(err, &errs) || len(errs) != 1 {
		t.Fatalf("Load: got %v, want one problem", err)
	}
	e := errs[0]
	if e.File != "portico.yaml" || e.Line != 3 || e.Column != 18 || e.Field != "apis[0].integration" {
		t.Errorf("problem placed at %s:%d:%d %s, want portico.yaml:3:18 apis[0].integration", e.File, e.Line, e.Column, e.Field)
	}
}

// Issue 10: "reports every problem" held only within one phase — a file
// with mistakes of type, rule and reference took a round each.
func TestRegressOneRunForAllPhases(t *testing.T) {
	f, err := loadString(t, `integrations:
  - name: b
    grpc: {target: "127.0.0.1:1", timeout: soon}
apis:
  - services: []
    integration: c
`)
	want := strings.Join([]string{
		`portico.yaml:3:44: integrations[0].grpc.timeout: invalid duration "soon": want a duration such as "10s", "500ms" or "1m30s"`,
		`portico.yaml:5:15: apis[0].services: must contain at least 1 item(s)`,
		`portico.yaml:6:18: apis[0].integration: unknown integration "c" (known: b)`,
	}, "\n")
	if err == nil || err.Error() != want {
		t.Errorf("Load:\ngot:\n%v\nwant:\n%s", err, want)
	}
	if f == nil || f.Config.GetIntegrations()[0].GetName() != "b" {
		t.Errorf("Load returned File %v, want the partly decoded config", f)
	}
}

// protoyaml stores YAML's null in a string field as the text "null"; null
// means unset in this file, as in proto3 JSON.
func TestRegressNullIsUnset(t *testing.T) {
	f, err := Parse([]byte("listen:\n  http: null\n  grpc: ~\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Config.GetListen(); got.GetHttp() != DefaultHTTPAddress || got.GetGrpc() != "" {
		t.Errorf("listen = %v, want the default http address and no grpc", got)
	}
}

func asErrors(err error, target *Errors) bool {
	es, ok := err.(Errors)
	if ok {
		*target = es
	}
	return ok
}

// FuzzParse (CI): " \r0" reported a problem at line 2 of what the fuzz
// test counted as a 1-line input. YAML takes a lone carriage return as a
// line break (files saved with old Mac line endings), and so do editors:
// the position was right and the test's line count wrong. Positions in
// such a file must still name the line an editor shows.
func TestRegressCarriageReturnLines(t *testing.T) {
	_, err := loadString(t, "listen:\r  http: \":0\"\rbogus: 1\r")
	if err == nil || !strings.HasPrefix(err.Error(), "portico.yaml:3:1: ") {
		t.Errorf("Load: got %v, want the unknown key located at portico.yaml:3:1", err)
	}
	if got := yamlLines(" \r0"); got != 2 {
		t.Errorf("yamlLines(%q) = %d, want 2", " \r0", got)
	}
	if got := yamlLines("a\r\nb\nc"); got != 3 {
		t.Errorf("yamlLines(%q) = %d, want 3", "a\r\nb\nc", got)
	}
}

// FuzzParse in CI: a file holding only a document marker ("---") was
// reported at line 2 of a one-line file ("want a mapping ..., got
// nothing"); it is an empty config, like an empty file.
func TestRegressDocumentMarkerOnly(t *testing.T) {
	for _, input := range []string{"---", "---\n", "--- # nothing yet\n", "---\n...\n"} {
		_, err := Parse([]byte(input), "/etc/portico")
		var errs Errors
		if !asErrors(err, &errs) || len(errs) != 1 || errs[0].Message != "config is empty" || errs[0].Line != 0 {
			t.Errorf("Parse(%q): got %v, want the one problem %q", input, err, "config is empty")
		}
	}
}

// FuzzParse: "listen:\r 0" panicked inside protoyaml, which splits lines on
// "\n" alone while YAML also ends a line at a lone "\r"; reloading such a
// file would have taken the gateway down. It is now one problem at the
// line an editor shows.
func TestRegressLoneCarriageReturnPanic(t *testing.T) {
	_, err := Parse([]byte("listen:\r 0"), "/etc/portico")
	var errs Errors
	if !asErrors(err, &errs) || len(errs) != 1 || errs[0].Line != 2 || errs[0].Field != "listen" {
		t.Errorf("Parse: got %v, want one problem with listen at line 2", err)
	}
}

// FuzzParse: "\xfe\xff (00" is UTF-16 (a byte order mark) holding LS
// (U+2028), a YAML line break; a UTF-8 file with LS, NEL or PS made
// protoyaml index past its last line, and normalising lone CRs byte by byte
// would have broken UTF-16 characters. A UTF-16 config is read as its
// text, and every YAML line break counts as one.
func TestRegressUTF16AndUnicodeBreaks(t *testing.T) {
	// U+0D0A is the bytes "\r\n" in UTF-16BE; listen is wrong on line 2.
	text := "# \u0d0a\nlisten: 0\n"
	utf16Of := func(order binary.AppendByteOrder) []byte {
		var out []byte
		for _, u := range utf16.Encode([]rune("\ufeff" + text)) {
			out = order.AppendUint16(out, u)
		}
		return out
	}
	for name, data := range map[string][]byte{
		"UTF-16BE":  utf16Of(binary.BigEndian),
		"UTF-16LE":  utf16Of(binary.LittleEndian),
		"UTF-8 LS":  []byte(strings.ReplaceAll(text, "\n", "\u2028")),
		"UTF-8 NEL": []byte(strings.ReplaceAll(text, "\n", "\u0085")),
	} {
		_, err := Parse(data, "/etc/portico")
		var errs Errors
		if !asErrors(err, &errs) || len(errs) != 1 || errs[0].Field != "listen" || errs[0].Line != 2 ||
			errs[0].Message != "want a mapping, got number 0" {
			t.Errorf("%s: got %v, want one problem: listen at line 2 wants a mapping", name, err)
		}
	}
}

// Issue 14: config errors quoted URLs with their user info, so a typo next
// to a password printed the password (on the terminal, in CI logs, in
// /readyz's last reload): an http integration's url, an ext_authz target
// written as a URL, an OTLP endpoint or a Redis address written as
// redis://:pw@host. Every error text now hides the user info.
func TestRegressConfigErrorsRedactURLs(t *testing.T) {
	_, err := loadString(t, `integrations:
  - name: web
    http: {url: "https://alice:hunter2@backend.example/"}
  - name: token
    http: {url: "https://ghp_T0KEN@backend.example/x?y"}
auth:
  providers:
    - name: ext
      external: {target: "https://bob:extpw@authz.example:443"}
telemetry:
  traces: {otlp_endpoint: "http://erin:otlppw@otel:4317"}
rate_limits:
  store: redis
  redis: {address: "redis://:redispw@cache:6379"}
`)
	if err == nil {
		t.Fatal("got no error")
	}
	text := err.Error()
	for _, secret := range []string{"hunter2", "ghp_T0KEN", "extpw", "otlppw", "redispw"} {
		if strings.Contains(text, secret) {
			t.Errorf("the errors show %q:\n%s", secret, text)
		}
	}
	for _, want := range []string{
		`integrations[0].http.url: "https://alice:xxxxx@backend.example/" carries credentials`,
		`integrations[1].http.url: "https://xxxxx@backend.example/x?y"`,
		`auth.providers[0].external.target: "https://bob:xxxxx@authz.example:443" is a URL`,
		`telemetry.traces.otlp_endpoint: "http://erin:xxxxx@otel:4317"`,
		`rate_limits.redis.address: "redis://:xxxxx@cache:6379"`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the errors do not say %s:\n%s", want, text)
		}
	}
}

// Issue 14: a jwks_uri (or a discovery issuer) that is not an http(s) URL
// passed validate — which fetches nothing — and serve hung building the
// key set. It is now a problem at its key.
func TestRegressJWKSURLNotAURL(t *testing.T) {
	for _, tc := range []struct{ jwt, field string }{
		{`{issuer: "https://idp.example", audiences: [api], jwks_uri: "://x"}`, "auth.providers[0].jwt.jwks_uri"},
		{`{issuer: "https://idp.example", audiences: [api], jwks_uri: "ftp://idp.example/keys"}`, "auth.providers[0].jwt.jwks_uri"},
		{`{issuer: "idp.example", audiences: [api], discovery: true}`, "auth.providers[0].jwt.issuer"},
	} {
		_, err := loadString(t, "auth:\n  providers:\n    - name: corp\n      jwt: "+tc.jwt+"\n")
		var errs Errors
		if !asErrors(err, &errs) || len(errs) != 1 || errs[0].Field != tc.field {
			t.Errorf("jwt %s: got %v, want one problem at %s", tc.jwt, err, tc.field)
		}
	}
}
