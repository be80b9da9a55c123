package config

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
)

// A URL in a config value can carry credentials in its user info
// (https://user:pass@host, redis://:pass@host:6379, a token as the user
// name), and config values end up in texts meant for people: config
// errors, integration errors, logs, /readyz, the admin API. RedactURLs is
// the one place they are hidden; the admin API's config view
// (admin.Redact), config errors (Error.Error), the gateway's logs
// (RedactingHandler) and the admin listener's error texts all use it.

// userinfo finds scheme://userinfo@ in a text: a scheme (RFC 3986), then
// the longest run of characters that can stand before a host — anything
// but white space, the delimiters that end an authority (/ ? #) and the
// quotes texts put around a URL — that an '@' follows (the last '@', as
// net/url reads it). The run is wider than RFC 3986's user info so that a
// password a URL parser refuses (an unescaped '{', '|', '^', ...) is hidden
// too in the error that quotes it.
var userinfo = regexp.MustCompile("([A-Za-z][A-Za-z0-9+.\\-]*://)([^\\s/?#\"<>`]*)@")

// RedactedPassword replaces a password in a URL, as net/url's
// URL.Redacted does.
const RedactedPassword = "xxxxx"

// RedactURLs returns s with the user info of every URL in it hidden: the
// password replaced by xxxxx (https://user:xxxxx@host), and a user name
// given without a password — often a token — replaced as a whole
// (https://xxxxx@host). The rest of the text is unchanged.
func RedactURLs(s string) string {
	if !strings.Contains(s, "@") || !strings.Contains(s, "://") {
		return s
	}
	return userinfo.ReplaceAllStringFunc(s, func(m string) string {
		i := strings.Index(m, "://") + len("://")
		scheme, info := m[:i], m[i:len(m)-1]
		if user, _, ok := strings.Cut(info, ":"); ok {
			return scheme + user + ":" + RedactedPassword + "@"
		}
		return scheme + RedactedPassword + "@"
	})
}

// RedactingHandler wraps a slog.Handler so that no record it handles
// shows a URL's user info: the message, and every attribute's value
// (strings, errors and anything else that prints as text, inside groups
// too) go through RedactURLs. A handler that redacts already is returned
// as it is.
func RedactingHandler(h slog.Handler) slog.Handler {
	if _, ok := h.(redactingHandler); ok {
		return h
	}
	return redactingHandler{h}
}

type redactingHandler struct{ next slog.Handler }

func (h redactingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h redactingHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, RedactURLs(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(redactAttr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h redactingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(as))
	for i, a := range as {
		red[i] = redactAttr(a)
	}
	return redactingHandler{h.next.WithAttrs(red)}
}

func (h redactingHandler) WithGroup(name string) slog.Handler {
	return redactingHandler{h.next.WithGroup(name)}
}

// redactAttr redacts one attribute's value.
func redactAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, RedactURLs(v.String()))
	case slog.KindGroup:
		g := v.Group()
		red := make([]slog.Attr, len(g))
		for i, ga := range g {
			red[i] = redactAttr(ga)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(red...)}
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			if s := x.Error(); RedactURLs(s) != s {
				return slog.String(a.Key, RedactURLs(s))
			}
		case interface{ String() string }:
			if s := x.String(); RedactURLs(s) != s {
				return slog.String(a.Key, RedactURLs(s))
			}
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
