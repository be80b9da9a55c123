package config

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestRedactURLs(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://user:pass@host/x", "https://user:xxxxx@host/x"},
		{"redis://:pw@cache:6379", "redis://:xxxxx@cache:6379"},
		{"https://ghp_token@github.com/o/r", "https://xxxxx@github.com/o/r"},
		{"dns://u:p@10.0.0.1/backend:50051", "dns://u:xxxxx@10.0.0.1/backend:50051"},
		{"https://u:p%40ss@host", "https://u:xxxxx@host"},
		{"https://u:p@ss@host", "https://u:xxxxx@host"},  // the last @ ends the user info
		{"https://u:p{|}^@host", "https://u:xxxxx@host"}, // a password a URL parser refuses
		{`Get "https://dave:***@idp/keys": refused`, `Get "https://dave:xxxxx@idp/keys": refused`},
		{`jwks=https://a:b@h/k issuer=https://c@h/ x`, `jwks=https://a:xxxxx@h/k issuer=https://xxxxx@h/ x`},
		{`"https://a:b@h", "redis://:c@r:1"`, `"https://a:xxxxx@h", "redis://:xxxxx@r:1"`},
		// Not user info.
		{"https://host/path?mail=a@b.example#x@y", "https://host/path?mail=a@b.example#x@y"},
		{"write to ops@example.com, see https://docs.example.com/x", "write to ops@example.com, see https://docs.example.com/x"},
		{"127.0.0.1:6379", "127.0.0.1:6379"},
		{"", ""},
	} {
		if got := RedactURLs(tc.in); got != tc.want {
			t.Errorf("RedactURLs(%q): got %q, want %q", tc.in, got, tc.want)
		}
	}
}

type urlStringer string

func (s urlStringer) String() string { return string(s) }

func TestRedactingHandler(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(RedactingHandler(slog.NewJSONHandler(&buf, nil)))
	log = slog.New(RedactingHandler(log.Handler())) // wrapping twice is once
	log.With("jwks", "https://a:s1@idp/keys").WithGroup("g").Warn("fetch https://b:s2@idp failed",
		"issuer", "https://s3@idp/",
		"err", fmt.Errorf("get %q: %w", "https://c:s4@idp/", errors.New("refused")),
		"target", urlStringer("dns://d:s5@ns/backend:1"),
		slog.Group("redis", "address", "redis://:s6@cache:6379"),
		"n", 3)
	out := buf.String()
	for _, secret := range []string{"s1", "s2", "s3", "s4", "s5", "s6"} {
		if strings.Contains(out, secret+"@") {
			t.Errorf("the log line shows %s: %s", secret, out)
		}
	}
	for _, want := range []string{`"jwks":"https://a:xxxxx@idp/keys"`, `"msg":"fetch https://b:xxxxx@idp failed"`, `"issuer":"https://xxxxx@idp/"`,
		`"redis":{"address":"redis://:xxxxx@cache:6379"}`, `"n":3`} {
		if !strings.Contains(out, want) {
			t.Errorf("the log line lacks %s: %s", want, out)
		}
	}
	if h := RedactingHandler(RedactingHandler(slog.DiscardHandler)).(redactingHandler); h.next != slog.DiscardHandler {
		t.Errorf("wrapping twice: got %T inside, want the handler itself", h.next)
	}
}
