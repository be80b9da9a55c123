package httpbackend

import (
	"net/url"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Path is a request path in its canonical form: the one form the gateway
// chooses a plain route on and forwards, byte for byte, so that what a
// policy decided on is what the backend serves. ParsePath makes it.
type Path struct {
	// Decoded is the path with every percent-encoding decoded
	// ("/shelves/caf\u00e9 1"): routes are matched on it.
	Decoded string
	// Escaped is the canonical encoding of Decoded: unreserved characters,
	// sub-delimiters, ":" and "@" as they are, every other byte
	// percent-encoded in upper case ("/shelves/caf%C3%A9%201"). It is what
	// is sent to the backend.
	Escaped string
}

// RequestPath is u's path as the client sent it: Go keeps the original in
// RawPath whenever it differs from the default encoding of Path.
func RequestPath(u *url.URL) string {
	if u.RawPath != "" {
		return u.RawPath
	}
	return u.EscapedPath()
}

// ParsePath reads a path as it was sent (percent-encoded) and returns its
// canonical form. A path that a backend, or a proxy in front of it, could
// resolve to another resource than the gateway reads is refused with
// INVALID_ARGUMENT, saying why. Each segment, once decoded, must not be:
//
//   - "." or ".." (dot segments, raw or encoded in any case: %2e, .%2E);
//   - empty, except the last one ("//" is refused, a trailing "/" kept);
//   - holding "/" or "\" (an encoded slash, %2F, is a separator to
//     backends that decode first; a backslash, raw or %5C, is one to
//     Windows servers and some frameworks);
//   - holding ";" (Tomcat and others strip ";params" from a segment, so
//     "..;" is ".."), "?" or "#" (a backend that decodes and parses again
//     cuts the path there), "%" (a double encoding: %252e decoded twice is
//     "."), or a control character (NUL ends a path in C code);
//   - ending in "." or " " (Windows servers drop them: "admin." is
//     "admin");
//   - invalid UTF-8 (an overlong %C0%AE is "." to old decoders), or text
//     that Unicode compatibility normalization (NFKC) changes (fullwidth
//     "\uff0e\uff0e" is ".." to a backend that normalizes).
//
// The path must start with "/". A query is not part of it.
func ParsePath(raw string) (Path, error) {
	if raw == "" || raw[0] != '/' {
		return Path{}, refuse("it does not start with /")
	}
	if plain(raw) {
		return Path{Decoded: raw, Escaped: raw}, nil
	}
	var dec, esc strings.Builder
	dec.Grow(len(raw))
	esc.Grow(len(raw) + len(raw)/4)
	rest := raw[1:]
	for {
		seg, more, last := rest, "", true
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			seg, more, last = rest[:i], rest[i+1:], false
		}
		d, err := url.PathUnescape(seg)
		if err != nil {
			return Path{}, refuse("it has an invalid percent-encoding")
		}
		if d == "" && !last {
			return Path{}, refuse("it has an empty segment (//)")
		}
		if why := checkSegment(d); why != "" {
			return Path{}, refuse(why)
		}
		dec.WriteByte('/')
		dec.WriteString(d)
		esc.WriteByte('/')
		escapeSegment(&esc, d)
		if last {
			break
		}
		rest = more
	}
	return Path{Decoded: dec.String(), Escaped: esc.String()}, nil
}

func refuse(why string) error {
	return status.Error(codes.InvalidArgument, "invalid path: "+why)
}

// checkSegment says why a decoded segment is refused, or "".
func checkSegment(d string) string {
	switch {
	case d == "":
		return ""
	case d == "." || d == "..":
		return `it has a "." or ".." segment`
	}
	ascii := true
	for i := 0; i < len(d); i++ {
		switch c := d[i]; {
		case c == '/' || c == '\\':
			return "a segment holds an encoded slash or a backslash"
		case c == ';':
			return `a segment holds ";" (a path parameter)`
		case c == '?' || c == '#':
			return `a segment holds an encoded "?" or "#"`
		case c == '%':
			return `a segment holds an encoded "%" (a double encoding)`
		case c < 0x20 || c == 0x7f:
			return "a segment holds a control character"
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	if c := d[len(d)-1]; c == '.' || c == ' ' {
		return `a segment ends in "." or " "`
	}
	if !ascii {
		if !utf8.ValidString(d) {
			return "a segment is not valid UTF-8"
		}
		if !norm.NFKC.IsNormalString(d) {
			return "a segment is not in Unicode normalization form NFKC"
		}
	}
	return ""
}

// plain reports whether raw is canonical as it is and needs no decoding:
// only bytes written as they are, no "%", no empty or dot segment, no
// segment ending in ".".
func plain(raw string) bool {
	segStart := 1
	for i := 1; i <= len(raw); i++ {
		if i < len(raw) && raw[i] != '/' {
			if !literal(raw[i]) {
				return false
			}
			continue
		}
		seg := raw[segStart:i]
		if seg == "" && i < len(raw) || seg != "" && seg[len(seg)-1] == '.' {
			return false
		}
		segStart = i + 1
	}
	return true
}

// literal reports whether c stands for itself in a canonical segment:
// RFC 3986's unreserved characters, its sub-delimiters but ";" (refused),
// ":" and "@".
func literal(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~!$&'()*+,=:@", c) >= 0
}

// escapeSegment writes the canonical encoding of a decoded segment.
func escapeSegment(b *strings.Builder, d string) {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(d); i++ {
		if c := d[i]; literal(c) {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
}

// trimPrefix removes prefix (a canonical path without its trailing "/")
// from p when p is under it, keeping a leading "/".
func (p Path) trimPrefix(prefix Path) Path {
	if !Covers(prefix.Decoded, p.Decoded) {
		return p
	}
	out := Path{Decoded: p.Decoded[len(prefix.Decoded):], Escaped: p.Escaped[len(prefix.Escaped):]}
	if out.Decoded == "" {
		out = Path{Decoded: "/", Escaped: "/"}
	}
	return out
}

// Covers reports whether a route prefix (a decoded canonical path without
// its trailing "/"; "" for "/") is path or one of its ancestors.
func Covers(prefix, path string) bool {
	return prefix == "" || path == prefix || strings.HasPrefix(path, prefix) && path[len(prefix)] == '/'
}
