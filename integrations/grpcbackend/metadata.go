package grpcbackend

import (
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// forwardable drops the metadata keys that describe the client's own
// connection to the gateway rather than the call: pseudo-headers,
// transport headers and grpc-internal keys (grpc-go sets its own).
func forwardable(md metadata.MD) metadata.MD {
	for k := range md {
		switch {
		case strings.HasPrefix(k, ":"), strings.HasPrefix(k, "grpc-"),
			k == "content-type", k == "user-agent", k == "te", k == "connection",
			k == "keep-alive", k == "proxy-connection", k == "transfer-encoding",
			k == "upgrade", k == "host":
			delete(md, k)
		}
	}
	return md
}

// backendError keeps a status the backend sent unchanged. A status made by
// the client side (the backend never answered: dial failure, connection
// refused) carries internal addresses in its message; it is replaced by a
// plain one so internal details never reach clients.
func backendError(err error, answered bool) error {
	st, ok := status.FromError(err)
	if !ok {
		return status.Error(codes.Unavailable, "backend unavailable")
	}
	if !answered && st.Code() == codes.Unavailable {
		return status.Error(codes.Unavailable, "backend unavailable")
	}
	return err
}
