package transcoder

import (
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// jsonLimits bound one JSON message before any parsing work is done on
// it: a body nested thousands of levels deep, or an array of a million
// elements, costs the gateway (and every backend) far more memory and time
// than its size suggests.
type jsonLimits struct {
	// depth is the deepest nesting of objects and arrays allowed.
	depth int
	// values is how many values (array elements and object members, at
	// any depth) one message may hold.
	values int
}

// maxJSONDepth is the hard ceiling of jsonLimits.depth (the config's own
// bound), so the scanner's stack of container kinds fits a fixed array.
const maxJSONDepth = 100

// scanJSON finds the end of the first JSON value in b and checks it
// against the limits, in one pass that allocates nothing. It does not
// validate the JSON: protojson does, on the value found. io.EOF means b
// holds only white space. The scan is written here because it must run
// before any decoder builds anything, and no decoder offers these bounds.
func scanJSON(b []byte, lim jsonLimits) (end int, err error) {
	end, _, err = scanJSONValues(b, lim)
	return end, err
}

// checkJSONText checks the JSON text of a Struct, Value or ListValue given
// as a path variable, query parameter or form value against the same
// limits as a body; the reason is plain words (params words the error).
func (t *Transcoder) checkJSONText(text string) error {
	if _, err := scanJSON([]byte(text), t.limits); err != nil && !errors.Is(err, io.EOF) {
		return errors.New(status.Convert(err).Message())
	}
	return nil
}

// decodedValueCost estimates the memory one JSON value costs once decoded
// into a message (measured: about 600 bytes per member of a Struct known
// only from descriptors, a third of that with generated types).
const decodedValueCost = 512

// decodedCost estimates the memory decoding raw takes, for the door's
// budget: its bytes plus its values' cost.
func decodedCost(raw []byte, values int) int64 {
	return int64(len(raw)) + int64(values)*decodedValueCost
}

// scanJSONValues is scanJSON that also returns how many values the first
// value holds.
func scanJSONValues(b []byte, lim jsonLimits) (end, count int, err error) {
	var inObject [maxJSONDepth + 1]bool // container kind per depth
	depth, values := 0, 0
	expectKey := false // inside an object, the next string is a key
	i := skipSpace(b, 0)
	if i == len(b) {
		return 0, 0, io.EOF
	}
	for i < len(b) {
		c := b[i]
		switch {
		case c == '{' || c == '[':
			if !expectKey {
				values++
			}
			depth++
			if depth > lim.depth || depth > maxJSONDepth {
				return 0, 0, status.Errorf(codes.InvalidArgument, "JSON nested deeper than %d levels", lim.depth)
			}
			inObject[depth] = c == '{'
			expectKey = c == '{'
			i++
		case c == '}' || c == ']':
			depth--
			i++
			if depth <= 0 {
				return i, values, nil
			}
			expectKey = false
		case c == '"':
			if !expectKey {
				values++
			}
			i = skipString(b, i)
			if depth == 0 {
				return i, values, nil
			}
		case c == ',':
			expectKey = inObject[depth]
			i++
		case c == ':':
			expectKey = false
			i++
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		default: // a number, true, false, null, or something protojson rejects
			values++
			for i < len(b) && !isDelimiter(b[i]) {
				i++
			}
			if depth == 0 {
				return i, values, nil
			}
		}
		if values > lim.values {
			return 0, 0, status.Errorf(codes.InvalidArgument, "JSON message holds more than %d values", lim.values)
		}
	}
	return len(b), values, nil // truncated: protojson reports it
}

// skipString returns the index just past the string that starts at b[i]
// (a '"'), or len(b) when it is not terminated.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

func isDelimiter(c byte) bool {
	switch c {
	case ',', ']', '}', ':', ' ', '\t', '\r', '\n', '"', '{', '[':
		return true
	}
	return false
}

func (l jsonLimits) String() string { return fmt.Sprintf("depth %d, values %d", l.depth, l.values) }
