package transcoder

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/portico-gw/portico/call"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// unmarshalJSON decodes raw, one JSON value, into msg the way
// grpc-gateway's default decoder does (unknown fields discarded, the same
// error texts), with one deliberate difference: an unknown enum name is an
// error, not silently dropped. protojson's DiscardUnknown covers both, so a
// message that fails the strict decode is decoded again leniently and the
// strict error kept only when it is about an enum value. whole is the body
// raw came from: when raw is not valid JSON, the error is worded as
// encoding/json's decoder words it, as grpc-gateway's is.
func (t *Transcoder) unmarshalJSON(raw, whole []byte, msg proto.Message) error {
	strict := protojson.UnmarshalOptions{RecursionLimit: t.opts.RecursionLimit, Resolver: t.types}
	strictErr := strict.Unmarshal(raw, msg)
	if strictErr == nil {
		return nil
	}
	proto.Reset(msg)
	lenient := protojson.UnmarshalOptions{DiscardUnknown: true, RecursionLimit: t.opts.RecursionLimit, Resolver: t.types}
	if err := lenient.Unmarshal(raw, msg); err != nil {
		if !json.Valid(raw) {
			var v json.RawMessage
			if jerr := json.NewDecoder(bytes.NewReader(whole)).Decode(&v); jerr != nil {
				return status.Errorf(codes.InvalidArgument, "%v", jerr)
			}
		}
		return status.Errorf(codes.InvalidArgument, "%v", err)
	}
	if strings.Contains(strictErr.Error(), "invalid value for enum") {
		return status.Errorf(codes.InvalidArgument, "%v", strictErr)
	}
	return nil
}

// jsonDecoder reads the messages of a streaming body one at a time: each
// within the body time-out, at most MaxBodyBytes, and checked against the
// JSON limits before it is decoded. Nothing more than one message is held.
type jsonDecoder struct {
	t   *Transcoder
	ctx context.Context
	rc  *http.ResponseController
	in  *messageLimit
	d   *json.Decoder
	raw json.RawMessage
	// held is the door's budget taken for the message last decoded (until
	// the next one, or the end of the call).
	held func()
	// broken is set once the body could not be read to a message's end:
	// the rest of it is not read, so the connection is not reused. Decode
	// runs beside the goroutine writing the response, so it only records
	// this; the stream sets the header under its lock.
	broken bool
}

func (t *Transcoder) newJSONDecoder(ctx context.Context, w http.ResponseWriter, body io.Reader) *jsonDecoder {
	in := &messageLimit{r: body, limit: t.opts.MaxBodyBytes}
	return &jsonDecoder{t: t, ctx: ctx, rc: http.NewResponseController(w), in: in, d: json.NewDecoder(in)}
}

// Decode decodes the next value into msg. io.EOF means no more values.
func (d *jsonDecoder) Decode(msg proto.Message) error {
	d.in.left = d.in.limit
	deadline := d.t.setReadDeadline(d.ctx, d.rc)
	d.raw = d.raw[:0]
	err := d.d.Decode(&d.raw)
	if deadline {
		_ = d.rc.SetReadDeadline(noDeadline)
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			return io.EOF
		}
		d.broken = true
		return bodyError(err, d.in.limit)
	}
	end, values, err := scanJSONValues(d.raw, d.t.limits)
	if err != nil {
		return err
	}
	if d.held != nil {
		d.held()
		d.held = nil
	}
	release, err := call.FromContext(d.ctx).Admit(d.ctx, decodedCost(d.raw, values))
	if err != nil {
		return err
	}
	d.held = release
	return d.t.unmarshalJSON(d.raw[:end], d.raw, msg)
}

// close gives back what the decoder holds of the door's budget.
func (d *jsonDecoder) close() {
	if d.held != nil {
		d.held()
		d.held = nil
	}
}

// messageLimit fails reads once more than limit bytes were read since
// the last reset: one message of a stream may not exceed the limit (the
// decoder's read-ahead may add one buffer to it).
type messageLimit struct {
	r     io.Reader
	limit int64
	left  int64
}

func (m *messageLimit) Read(p []byte) (int, error) {
	if m.left <= 0 {
		return 0, &http.MaxBytesError{Limit: m.limit}
	}
	if int64(len(p)) > m.left {
		p = p[:m.left]
	}
	n, err := m.r.Read(p)
	m.left -= int64(n)
	return n, err
}
