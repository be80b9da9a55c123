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

// splitVerb splits a path checked by scanPath whose last segment has a ":"
// that is neither its first nor its last byte into the path up to the last
// ":" and the verb after it.
func splitVerb(path string, lastSlash, lastColon int) (body, verb string, ok bool) {
	if lastColon <= lastSlash+1 || lastColon == len(path)-1 {
		return "", "", false // no ":" in the last segment, or nothing before or after it
	}
	return path[:lastColon], path[lastColon+1:], true
}

// segmentEnd returns the offset of the first "/" in path at or after pos, or
// len(path).
func segmentEnd(path string, pos int) int {
	for pos < len(path) && path[pos] != '/' {
		pos++
	}
	return pos
}
