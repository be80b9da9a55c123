package router

// The helpers here scan with plain loops rather than strings.IndexByte:
// path segments are short, and for short strings the loop is faster.

// scanPath checks that path can match anything: it starts with "/" and has
// no empty segment ("//", a trailing "/", or "/" alone). It also returns
// the offsets of the last "/" and of the last ":" (-1 if none).
func scanPath(path string) (lastSlash, lastColon int, ok bool) {
	if len(path) < 2 || path[0] != '/' || path[len(path)-1] == '/' {
		return 0, 0, false
	}
	lastColon = -1
	for i := 1; i < len(path); i++ {
		switch path[i] {
		case '/':
			if i == lastSlash+1 {
				return 0, 0, false
			}
			lastSlash = i
		case ':':
			lastColon = i
		}
	}
	return lastSlash, lastColon, true
}

// firstVerbColon returns the offset of the first ":" in the last segment of
// path (which starts after lastSlash) that can start a verb holding at most
// maxColons colons: the (maxColons+1)-th ":" from the end, or the segment's
// first ":" when it has fewer. It returns -1 when the segment has none.
func firstVerbColon(path string, lastSlash, maxColons int) int {
	first, n := -1, 0
	for i := len(path) - 1; i > lastSlash && n <= maxColons; i-- {
		if path[i] == ':' {
			first = i
			n++
		}
	}
	return first
}

// nextColon returns the offset of the first ":" in path at or after pos, or
// -1. The caller starts within the last segment, which has no "/".
func nextColon(path string, pos int) int {
	for ; pos < len(path); pos++ {
		if path[pos] == ':' {
			return pos
		}
	}
	return -1
}

// segmentEnd returns the offset of the first "/" in path at or after pos, or
// len(path).
func segmentEnd(path string, pos int) int {
	for pos < len(path) && path[pos] != '/' {
		pos++
	}
	return pos
}
