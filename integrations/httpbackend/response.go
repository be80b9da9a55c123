package httpbackend

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/integrations"
	"google.golang.org/genproto/googleapis/rpc/code"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// unmarshal reads backend JSON as grpc-gateway reads client JSON: unknown
// fields are ignored (a backend may know more than the gateway's
// descriptors).
var unmarshal = protojson.UnmarshalOptions{DiscardUnknown: true}

// readBody reads a response body up to maxResponseBytes.
func readBody(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxResponseBytes+1))
	if err != nil {
		return nil, status.Error(codes.Unavailable, "backend connection lost while reading the answer")
	}
	if len(b) > maxResponseBytes {
		return nil, status.Error(codes.ResourceExhausted, "backend answer too large")
	}
	return b, nil
}

// decodeResponse turns a backend's answer into the method's response
// message, or into the status its HTTP status (and error body) says.
func decodeResponse(resp *http.Response, m *catalog.Method) (proto.Message, error) {
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, errorFromResponse(resp)
	}
	body, err := readBody(resp.Body)
	if err != nil {
		return nil, err
	}
	out := m.Output().New().Interface()
	if isHTTPBody(m.Output().Descriptor()) {
		fields := m.Output().Descriptor().Fields()
		r := out.ProtoReflect()
		r.Set(fields.ByName("content_type"), protoreflect.ValueOfString(resp.Header.Get("Content-Type")))
		r.Set(fields.ByName("data"), protoreflect.ValueOfBytes(body))
		return out, nil
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return out, nil // 204, or an empty 200: the empty message
	}
	if rb := m.Bindings()[0].ResponseBody; rb != "" {
		body = wrap(strings.Split(rb, "."), m, body)
	}
	if err := unmarshal.Unmarshal(body, out); err != nil {
		return nil, status.Errorf(codes.Internal, "backend answer is not a %s", m.Output().Descriptor().FullName())
	}
	return out, nil
}

// wrap puts a response_body field's JSON back inside the objects leading
// to it: {"books":[...]} for response_body "books".
func wrap(path []string, m *catalog.Method, body []byte) []byte {
	md := m.Output().Descriptor()
	names := make([]string, len(path))
	for k, p := range path {
		fd := md.Fields().ByName(protoreflect.Name(p))
		if fd == nil {
			return body
		}
		names[k] = fd.JSONName()
		md = fd.Message()
	}
	for k := len(names) - 1; k >= 0; k-- {
		key, _ := json.Marshal(names[k])
		body = append(append(append([]byte("{"), key...), ':'), append(body, '}')...)
	}
	return body
}

// errorFromResponse is the status of a backend's error answer: the
// google.rpc.Status it carries when it is a gRPC gateway (grpc-gateway,
// Portico: {"code","message","details"}) or a Google API
// ({"error":{"code","message","status"}}); otherwise the code its HTTP
// status maps to, with the problem's detail (RFC 9457) or the status text.
func errorFromResponse(resp *http.Response) error {
	body, err := readBody(resp.Body)
	if err != nil {
		body = nil
	}
	c := CodeFromHTTP(resp.StatusCode)
	var st spb.Status
	// Trusted as a gateway's error body only when its code is the one
	// that gateway would answer with this HTTP status.
	if json.Valid(body) && unmarshal.Unmarshal(body, &st) == nil && st.GetCode() > 0 && st.GetCode() <= 16 &&
		call.HTTPStatusFromCode(codes.Code(st.GetCode())) == resp.StatusCode {
		return call.FromBackend(status.FromProto(&st).Err())
	}
	var shapes struct {
		Error *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Status  string `json:"status"`
		} `json:"error"`
		Title  string `json:"title"`
		Detail string `json:"detail"`
	}
	msg := http.StatusText(resp.StatusCode)
	if json.Unmarshal(body, &shapes) == nil {
		switch {
		case shapes.Error != nil:
			if v, ok := code.Code_value[shapes.Error.Status]; ok && v != 0 {
				c = codes.Code(v)
			}
			if shapes.Error.Message != "" {
				msg = shapes.Error.Message
			}
		case shapes.Detail != "":
			msg = shapes.Detail
		case shapes.Title != "":
			msg = shapes.Title
		}
	}
	if msg == "" {
		msg = "backend answered HTTP " + resp.Status
	}
	return call.FromBackend(status.Error(c, msg))
}

// CodeFromHTTP maps a backend's HTTP status to a gRPC code: the inverse of
// grpc-gateway's table (runtime.HTTPStatusFromCode), taking for a status
// several codes share the most general one (409: ABORTED; 400:
// INVALID_ARGUMENT; 500: INTERNAL), plus the statuses that table never
// writes but HTTP backends do (410, 412, 416, 502, ...). A redirect is not
// followed: UNKNOWN.
func CodeFromHTTP(s int) codes.Code {
	switch s {
	case http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusRequestEntityTooLarge,
		http.StatusRequestURITooLong, http.StatusRequestHeaderFieldsTooLarge, http.StatusUnsupportedMediaType:
		return codes.InvalidArgument
	case http.StatusUnauthorized:
		return codes.Unauthenticated
	case http.StatusForbidden:
		return codes.PermissionDenied
	case http.StatusNotFound, http.StatusGone:
		return codes.NotFound
	case http.StatusMethodNotAllowed, http.StatusNotImplemented:
		return codes.Unimplemented
	case http.StatusRequestTimeout, http.StatusGatewayTimeout:
		return codes.DeadlineExceeded
	case http.StatusConflict:
		return codes.Aborted
	case http.StatusPreconditionFailed, http.StatusPreconditionRequired:
		return codes.FailedPrecondition
	case http.StatusRequestedRangeNotSatisfiable:
		return codes.OutOfRange
	case http.StatusTooManyRequests:
		return codes.ResourceExhausted
	case 499: // client closed request
		return codes.Canceled
	case http.StatusInternalServerError:
		return codes.Internal
	case http.StatusBadGateway, http.StatusServiceUnavailable:
		return codes.Unavailable
	}
	switch {
	case s >= 200 && s <= 299:
		return codes.OK
	case s >= 400 && s <= 499:
		return codes.FailedPrecondition
	case s >= 500 && s <= 599:
		return codes.Internal
	}
	return codes.Unknown
}

// responseMetadata is the backend's response headers as gRPC header
// metadata (the REST door shows them as Grpc-Metadata-*), less those
// about the connection and the body's framing. A gateway's
// Grpc-Metadata-<name> header is its backend's <name> metadata again.
func responseMetadata(h http.Header) metadata.MD {
	md := metadata.MD{}
	for k, vs := range h {
		name := strings.ToLower(k)
		name = strings.TrimPrefix(name, "grpc-metadata-")
		if integrations.HopHeader(name) || name == "date" || strings.HasPrefix(name, "grpc-") || !validKey(name) {
			continue
		}
		md[name] = append(md[name], vs...)
	}
	return md
}

func validKey(k string) bool {
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return k != ""
}

// readStream reads newline-delimited {"result": …} / {"error": …} objects
// and sends each result on ss; an error object ends the call with its
// status.
func readStream(r io.Reader, m *catalog.Method, ss grpc.ServerStream) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := readLine(br)
		if len(bytes.TrimSpace(line)) > 0 {
			var item struct {
				Result json.RawMessage `json:"result"`
				Error  json.RawMessage `json:"error"`
			}
			if json.Unmarshal(line, &item) != nil {
				return status.Error(codes.Internal, "backend stream item is not JSON")
			}
			if len(item.Error) > 0 && string(item.Error) != "null" {
				var st spb.Status
				if unmarshal.Unmarshal(item.Error, &st) != nil {
					return status.Error(codes.Unknown, "backend stream ended with an error")
				}
				return status.FromProto(&st).Err()
			}
			out := m.Output().New().Interface()
			if err := unmarshal.Unmarshal(item.Result, out); err != nil {
				return status.Errorf(codes.Internal, "backend stream item is not a %s", m.Output().Descriptor().FullName())
			}
			if err := ss.SendMsg(out); err != nil {
				return err
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// readLine reads one line, at most maxResponseBytes long.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxResponseBytes {
			return nil, status.Error(codes.ResourceExhausted, "backend stream item too large")
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return line, status.Error(codes.Unavailable, "backend connection lost during the stream")
		}
		return line, err
	}
}
