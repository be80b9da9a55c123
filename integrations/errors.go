package integrations

import (
	"github.com/portico-gw/portico/call"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Unavailable is what a client gets when the backend could not be reached.
var Unavailable = status.Error(codes.Unavailable, "backend unavailable")

// Sanitize keeps a status the backend itself sent unchanged. A status the
// gateway's client side made (the backend never answered: a dial failure,
// a refused connection) carries internal addresses in its message; it is
// replaced by a plain one so internal details never reach clients.
// answered says whether the call reached the backend. A status the
// backend sent is marked as its own (call.FromBackend), so the gateway's
// own refusals can be told from it; a deadline or cancellation is the
// gateway's (its timeout, the client's going away), even when the
// backend had answered headers.
func Sanitize(err error, answered bool) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return Unavailable
	}
	if !answered && st.Code() == codes.Unavailable {
		return Unavailable
	}
	if answered && st.Code() != codes.DeadlineExceeded && st.Code() != codes.Canceled {
		return call.FromBackend(err)
	}
	return err
}
