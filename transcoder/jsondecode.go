package transcoder

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

var (
	lenientJSON = protojson.UnmarshalOptions{DiscardUnknown: true}
	strictJSON  = protojson.UnmarshalOptions{}
)

// jsonDecoder reads JSON messages from a body the way grpc-gateway's
// default decoder does (the first JSON value, unknown fields discarded,
// the same error texts), with one deliberate difference: an unknown enum
// name is an error, not silently dropped. protojson's DiscardUnknown
// covers both, so a message that fails the strict decode is decoded again
// leniently and the strict error kept only when it is about an enum value.
type jsonDecoder struct {
	d *json.Decoder
}

func newJSONDecoder(r io.Reader) *jsonDecoder {
	return &jsonDecoder{d: json.NewDecoder(r)}
}

// Decode decodes the next value into msg. io.EOF means no more values.
func (d *jsonDecoder) Decode(msg proto.Message) error {
	var raw json.RawMessage
	if err := d.d.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) {
			return io.EOF
		}
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &runtime.HTTPStatusError{
				HTTPStatus: http.StatusRequestEntityTooLarge,
				Err:        status.Errorf(codes.InvalidArgument, "request body larger than %d bytes", tooBig.Limit),
			}
		}
		return status.Errorf(codes.InvalidArgument, "%v", err)
	}
	strictErr := strictJSON.Unmarshal(raw, msg)
	if strictErr == nil {
		return nil
	}
	proto.Reset(msg)
	if err := lenientJSON.Unmarshal(raw, msg); err != nil {
		return status.Errorf(codes.InvalidArgument, "%v", err)
	}
	if strings.Contains(strictErr.Error(), "invalid value for enum") {
		return status.Errorf(codes.InvalidArgument, "%v", strictErr)
	}
	return nil
}
