package transcoder

import "strings"

// withSlashesDecoded is path with its encoded slashes ("%2F", any case)
// made segment separators; ok is false when path has none.
//
// The REST door matches the path as sent (http.proto's reading: "%2F"
// stays inside its segment). grpc-gateway's default (its legacy unescaping
// mode) decodes the whole path before splitting it, so there "%2F"
// separates segments, and its generated OpenAPI clients rely on that: they
// escape the "/" of every path parameter, "strprefix/foo" for
// {string_value=strprefix/*} becoming strprefix%2Ffoo. A path that matches
// no route as sent is tried again this way, so those clients are served;
// a path that matches as sent keeps its reading. Only "%2F" is decoded
// here: the variables are percent-decoded later, as always.
func withSlashesDecoded(path string) (string, bool) {
	i := strings.Index(path, "%2")
	if i < 0 {
		return "", false
	}
	var b strings.Builder
	found := false
	for i = 0; i < len(path); i++ {
		if path[i] == '%' && i+2 < len(path) && path[i+1] == '2' && (path[i+2] == 'F' || path[i+2] == 'f') {
			b.WriteByte('/')
			i += 2
			found = true
			continue
		}
		b.WriteByte(path[i])
	}
	return b.String(), found
}
