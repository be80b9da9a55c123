package transcoder

import (
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// unescape percent-decodes a path variable as google.api.http specifies:
// a single-segment variable is decoded fully; a multi-segment one keeps
// the reserved characters (RFC 6570: ":/?#[]@!$&'()*+,;=") escaped, so
// "%2F" inside a name stays distinguishable from a segment separator.
func unescape(s string, multi bool) (string, error) {
	i := strings.IndexByte(s, '%')
	if i < 0 {
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			end := i + 3
			if end > len(s) {
				end = len(s)
			}
			return "", status.Errorf(codes.InvalidArgument, "invalid percent-encoding %q in path", s[i:end])
		}
		d := unhex(s[i+1])<<4 | unhex(s[i+2])
		if multi && isReserved(d) {
			b.WriteString(s[i : i+3])
		} else {
			b.WriteByte(d)
		}
		i += 2
	}
	return b.String(), nil
}

func isHex(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

func isReserved(c byte) bool {
	return strings.IndexByte(":/?#[]@!$&'()*+,;=", c) >= 0
}
