package transcoder_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
)

// FuzzREST sends arbitrary requests through the whole REST door (router,
// percent-decoding, query parsing, JSON body decoding, validation, the
// call to a mirror backend, response writing), to two gateways: one
// serving the messaging API (compiled-in types), one serving the hostile
// API, known only from .proto sources (dynamicpb: maps, Struct, Value,
// Any, oneofs, HttpBody, every stream shape); paths under /v1/things and
// /v1/uploads go to the second. Whatever the input: no panic, never a
// 5xx, and every error is a JSON error body.
func FuzzREST(f *testing.F) {
	seeds := []struct{ method, target, body string }{
		{"GET", "/v1/rooms/r1/messages/123456", ""},
		{"GET", "/v1/messages/123456?revision=2&sub.subfield=foo", ""},
		{"PATCH", "/v1/messages/1", `{"text":"Hi!"}`},
		{"PATCH", "/v1/texts/1", `{"messageId":"x","text":"Hi!"}`},
		{"GET", "/v1/files/a%2Fb/c%20d", ""},
		{"POST", "/v1/operations/x/y:cancel", `{}`},
		{"GET", "/v1/messages/%ff?revision=%zz", ""},
		{"PATCH", "/v1/messages/1", `{"message":`},
		{"DELETE", "/v1/messages/1", ""},
		{"POST", "/v1/things", `{"name":"a","labels":{"k":"v"},"attrs":{"a":[1,{"b":null}]},"value":{"x":[true]},"text":"t","numbers":["1",2]}`},
		{"POST", "/v1/things", `{"extra":{"@type":"type.googleapis.com/hostile.v1.Thing","name":"n"},"child":{"children":{"c":{"number":"7"}}}}`},
		{"POST", "/v1/things", `{"value":[[[[[[[[[[1]]]]]]]]]],"text":"a","number":1}`},
		{"GET", "/v1/things/x%2Fy?labels[k]=v&size=9&value=1", ""},
		{"POST", "/v1/uploads/pic", "\x89PNG\r\n"},
		{"POST", "/v1/things:watch", `{"name":"w"}`},
		{"POST", "/v1/things:collect", `{"name":"1"}` + "\n" + `{"labels":{"a":"b"}}`},
		{"POST", "/v1/things:chat", `{"name":"1"}` + "\n" + `{"name":` + "\n"},
	}
	for _, s := range seeds {
		f.Add(s.method, s.target, s.body)
	}
	env := servertest.StartGateway(f, startMirror(f), servertest.Options{Config: func(c *configv1.Config) {
		c.Apis[0].Services = []string{"example.messaging.v1.MessagingService"}
	}})
	hostile := servertest.StartHostile(f, servertest.Options{})
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1/things") || strings.HasPrefix(r.URL.Path, "/v1/uploads") {
			hostile.Server.Snapshot().REST().ServeHTTP(w, r)
			return
		}
		env.Server.Snapshot().REST().ServeHTTP(w, r)
	})
	f.Fuzz(func(t *testing.T, method, target, body string) {
		if !strings.HasPrefix(target, "/") || method == "" || strings.ContainsAny(method, " \t\r\n/:") {
			return
		}
		req, err := http.NewRequest(method, "http://gateway"+target, strings.NewReader(body))
		if err != nil {
			return // not a request net/http would hand to a handler
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %q %q: got %d: %s", method, target, body, rec.Code, rec.Body.Bytes())
		}
		if rec.Code >= 400 && !isErrorBody(rec.Body.Bytes()) {
			t.Fatalf("%s %q: %d without a JSON error body: %q", method, target, rec.Code, rec.Body.Bytes())
		}
		if !utf8.Valid(bytes.TrimSpace(rec.Body.Bytes())) {
			t.Fatalf("%s %q: response is not UTF-8", method, target)
		}
	})
}

// isErrorBody reports whether body is a JSON error: grpc-gateway's
// {"code","message",...}, or, for a stream that failed once the backend
// stream was open, newline-delimited JSON ending with {"error":{...}} (as
// grpc-gateway writes it).
func isErrorBody(body []byte) bool {
	type errBody struct {
		Code    *int    `json:"code"`
		Message *string `json:"message"`
	}
	var e errBody
	if json.Unmarshal(body, &e) == nil && e.Code != nil && e.Message != nil {
		return true
	}
	lines := bytes.Split(bytes.TrimSpace(body), []byte("\n"))
	var last struct {
		Error *errBody `json:"error"`
	}
	return json.Unmarshal(lines[len(lines)-1], &last) == nil && last.Error != nil && last.Error.Code != nil && last.Error.Message != nil
}
