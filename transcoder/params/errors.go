package params

import (
	"strconv"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// maxQuotedValue bounds how much of a client-supplied value an error message
// repeats, so that a 64 KiB query cannot produce a 64 KiB error.
const maxQuotedValue = 64

// quote renders a client-supplied value for an error message: quoted, with
// invalid UTF-8 escaped (the message must stay valid UTF-8 for the JSON error
// body) and truncated to maxQuotedValue bytes.
func quote(s string) string {
	if len(s) > maxQuotedValue {
		return strconv.Quote(s[:maxQuotedValue]) + "..."
	}
	return strconv.Quote(s)
}

// invalidArgument returns a codes.InvalidArgument status error.
func invalidArgument(msg string) error {
	return status.Error(codes.InvalidArgument, msg)
}

// invalidValue reports that value cannot be bound to the field at path;
// reason says why, and already names the value.
func invalidValue(path, reason string) error {
	return invalidArgument("invalid value for field " + strconv.Quote(path) + ": " + reason)
}
