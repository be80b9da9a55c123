package transcoder

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/portico-gw/portico/transcoder/params"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// decodeRequest builds the request message of a unary or server-streaming
// call, in grpc-gateway's order: body, automatic update_mask, path
// variables, query parameters.
func (t *Transcoder) decodeRequest(r *http.Request, rt *route, vars []string) (proto.Message, error) {
	req := rt.m.Input.New()
	if rt.body != bodyNone {
		body, err := readBody(r)
		if err != nil {
			return nil, err
		}
		if err := t.decodeBody(req, rt, body, r.Header.Get("Content-Type")); err != nil {
			return nil, err
		}
	}
	for i, v := range rt.vars {
		val, err := unescape(vars[i], v.multi)
		if err != nil {
			return nil, err
		}
		if err := params.Set(req, v.path, val); err != nil {
			return nil, err
		}
	}
	if rt.body != bodyWhole && r.URL.RawQuery != "" {
		if err := params.Query(req, r.URL.RawQuery, rt.skip); err != nil {
			return nil, err
		}
	}
	return req.Interface(), nil
}

// readBody reads the whole (size-limited) body.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &runtime.HTTPStatusError{
				HTTPStatus: http.StatusRequestEntityTooLarge,
				Err:        status.Errorf(codes.InvalidArgument, "request body larger than %d bytes", tooBig.Limit),
			}
		}
		return nil, status.Errorf(codes.InvalidArgument, "reading request body: %v", err)
	}
	return body, nil
}

func (t *Transcoder) decodeBody(req protoreflect.Message, rt *route, body []byte, contentType string) error {
	if rt.body == bodyWhole {
		if rt.bodyIsHTTPBody {
			setHTTPBody(req, body, contentType)
			return nil
		}
		if err := t.decodeJSON(body, req.Interface()); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		return nil
	}
	parent := req
	for _, fd := range rt.bodyPath[:len(rt.bodyPath)-1] {
		parent = parent.Mutable(fd).Message()
	}
	fd := rt.bodyPath[len(rt.bodyPath)-1]
	if rt.bodyIsHTTPBody {
		sub := parent.NewField(fd).Message()
		setHTTPBody(sub, body, contentType)
		parent.Set(fd, protoreflect.ValueOfMessage(sub))
		return nil
	}
	if fd.Message() != nil && !fd.IsList() && !fd.IsMap() {
		sub := parent.NewField(fd).Message()
		err := t.decodeJSON(body, sub.Interface())
		if errors.Is(err, io.EOF) {
			// Empty body: the field stays unset, as in grpc-gateway, and a
			// PATCH gets an empty update_mask.
			if rt.patchMask != nil && !hasMaskPaths(req, rt.patchMask) {
				setMask(req, rt.patchMask, nil)
			}
			return nil
		}
		if err != nil {
			return err
		}
		parent.Set(fd, protoreflect.ValueOfMessage(sub))
		if rt.patchMask != nil && !hasMaskPaths(req, rt.patchMask) {
			fm, err := runtime.FieldMaskFromRequestBody(bytes.NewReader(body), sub.Interface())
			if err != nil {
				return status.Errorf(codes.InvalidArgument, "%v", err)
			}
			setMask(req, rt.patchMask, fm.GetPaths())
		}
		return nil
	}
	// A scalar, repeated or map field: decode it as the value of that key.
	var raw bytes.Buffer
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	fmt.Fprintf(&raw, "{%q:%s}", fd.JSONName(), bytes.TrimSpace(body))
	tmp := parent.New()
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(raw.Bytes(), tmp.Interface()); err != nil {
		return status.Errorf(codes.InvalidArgument, "%v", err)
	}
	parent.Set(fd, tmp.Get(fd))
	return nil
}

// decodeJSON decodes the first JSON value of body into msg. io.EOF means
// an empty body.
func (t *Transcoder) decodeJSON(body []byte, msg proto.Message) error {
	return newJSONDecoder(bytes.NewReader(body)).Decode(msg)
}

func setHTTPBody(m protoreflect.Message, data []byte, contentType string) {
	fields := m.Descriptor().Fields()
	m.Set(fields.ByName("content_type"), protoreflect.ValueOfString(contentType))
	m.Set(fields.ByName("data"), protoreflect.ValueOfBytes(data))
}

func hasMaskPaths(req protoreflect.Message, fd protoreflect.FieldDescriptor) bool {
	if !req.Has(fd) {
		return false
	}
	fm := req.Get(fd).Message()
	return fm.Get(fm.Descriptor().Fields().ByName("paths")).List().Len() > 0
}

func setMask(req protoreflect.Message, fd protoreflect.FieldDescriptor, paths []string) {
	fm := req.NewField(fd).Message()
	list := fm.Mutable(fm.Descriptor().Fields().ByName("paths")).List()
	for _, p := range paths {
		list.Append(protoreflect.ValueOfString(p))
	}
	req.Set(fd, protoreflect.ValueOfMessage(fm))
}
