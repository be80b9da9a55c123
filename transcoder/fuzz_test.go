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
// call to a mirror backend, response writing). Whatever the input: no
// panic, never a 5xx, and every error is a JSON error body.
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
	}
	for _, s := range seeds {
		f.Add(s.method, s.target, s.body)
	}
	env := servertest.StartGateway(f, startMirror(f), servertest.Options{Config: func(c *configv1.Config) {
		c.Apis[0].Services = []string{"example.messaging.v1.MessagingService"}
	}})
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		env.Server.Snapshot().REST.ServeHTTP(w, r)
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
		if rec.Code >= 400 {
			var e struct {
				Code    *int    `json:"code"`
				Message *string `json:"message"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Code == nil || e.Message == nil {
				t.Fatalf("%s %q: %d without a JSON error body: %q", method, target, rec.Code, rec.Body.Bytes())
			}
		}
		if !utf8.Valid(bytes.TrimSpace(rec.Body.Bytes())) {
			t.Fatalf("%s %q: response is not UTF-8", method, target)
		}
	})
}
