package webprotocols

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"connectrpc.com/connect"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// End writes the call's answer in the client's protocol, as vanguard
// writes it from the gRPC door's (TestDirectMatchesVanguard holds the
// two side by side).
func (s *stream) End(err error) {
	st, ok := status.FromError(err)
	if !ok {
		st = status.FromContextError(err)
	}
	if st.Code() == codes.OK && !s.answered {
		st = status.New(codes.Internal, "the call ended without an answer")
	}
	h := s.w.Header()
	for k, vs := range s.header {
		if k == "" || k[0] == ':' || reservedAnswer(k) {
			continue
		}
		for _, v := range vs {
			h.Add(k, metadataValue(k, v))
		}
	}
	if s.protocol == Connect {
		s.endConnect(h, st)
	} else {
		s.endGRPCWeb(h, st)
	}
}

// endConnect writes a Connect unary answer: the message, or the error
// JSON with the code's HTTP status; trailers as Trailer- headers.
func (s *stream) endConnect(h http.Header, st *status.Status) {
	s.trailers(func(k, v string) { h["Trailer-"+k] = append(h["Trailer-"+k], v) })
	if st.Code() == codes.OK {
		ct := "application/proto"
		if s.json {
			ct = "application/json"
		}
		h.Set("Content-Type", ct)
		s.w.WriteHeader(http.StatusOK)
		_, _ = s.w.Write(s.answer)
		return
	}
	h.Set("Content-Type", "application/json")
	s.w.WriteHeader(connectHTTPStatus(st.Code()))
	_, _ = s.w.Write(s.connectError(st))
}

// endGRPCWeb writes a gRPC-Web answer: the message's frame then the
// trailer frame, or, for an error, the status in the headers alone
// (trailers-only).
func (s *stream) endGRPCWeb(h http.Header, st *status.Status) {
	h.Set("Content-Type", "application/grpc-web+proto")
	if st.Code() != codes.OK {
		s.trailers(func(k, v string) { h[k] = append(h[k], v) })
		grpcStatus(h, st)
		s.w.WriteHeader(http.StatusOK)
		return
	}
	s.w.WriteHeader(http.StatusOK)
	_, _ = s.w.Write(frameHeader(0, len(s.answer)))
	_, _ = s.w.Write(s.answer)
	tr := http.Header{}
	s.trailers(func(k, v string) { tr[k] = append(tr[k], v) })
	grpcStatus(tr, st)
	var b bytes.Buffer
	_ = tr.Write(&b)
	_, _ = s.w.Write(frameHeader(0x80, b.Len()))
	_, _ = s.w.Write(b.Bytes())
}

// trailers calls put for each trailer (its raw metadata key).
func (s *stream) trailers(put func(k, v string)) {
	for k, vs := range s.trailer {
		if k == "" || k[0] == ':' || reservedAnswer(k) {
			continue
		}
		for _, v := range vs {
			put(k, metadataValue(k, v))
		}
	}
}

// frameHeader is a gRPC-Web envelope's five bytes.
func frameHeader(flags byte, n int) []byte {
	b := make([]byte, 5)
	b[0] = flags
	binary.BigEndian.PutUint32(b[1:], uint32(n))
	return b
}

// grpcStatus sets gRPC's status fields in h.
func grpcStatus(h http.Header, st *status.Status) {
	h.Set("Grpc-Status", strconv.Itoa(int(st.Code())))
	h.Set("Grpc-Message", percentEncode(st.Message()))
	if len(st.Proto().GetDetails()) > 0 {
		if bin, err := proto.Marshal(st.Proto()); err == nil {
			h.Set("Grpc-Status-Details-Bin", connect.EncodeBinaryHeader(bin))
		}
	}
}

// reservedAnswer reports metadata keys grpc-go never sends as response
// headers or trailers (its transport's own), and the status details,
// written from the status.
func reservedAnswer(k string) bool {
	switch k {
	case "content-type", "user-agent", "grpc-message-type", "grpc-encoding", "grpc-message", "grpc-status", "grpc-timeout", "te",
		"grpc-status-details-bin":
		return true
	}
	return false
}

// metadataValue is a metadata value as a header value: -bin values in
// base64.
func metadataValue(k, v string) string {
	if strings.HasSuffix(k, "-bin") {
		return connect.EncodeBinaryHeader([]byte(v))
	}
	return v
}

// percentEncode is gRPC's encoding of grpc-message: bytes outside
// printable ASCII, and '%', as %XX. Hand-written: grpc-go's is internal.
func percentEncode(msg string) string {
	var b strings.Builder
	for i := range len(msg) {
		if c := msg[i]; c < ' ' || c > '~' || c == '%' {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(msg[i])
	}
	return b.String()
}

// connectHTTPStatus is the Connect protocol's HTTP status for a code.
func connectHTTPStatus(c codes.Code) int {
	switch c {
	case codes.Canceled:
		return 499
	case codes.InvalidArgument, codes.FailedPrecondition, codes.OutOfRange:
		return http.StatusBadRequest
	case codes.DeadlineExceeded:
		return http.StatusGatewayTimeout
	case codes.NotFound:
		return http.StatusNotFound
	case codes.AlreadyExists, codes.Aborted:
		return http.StatusConflict
	case codes.PermissionDenied:
		return http.StatusForbidden
	case codes.ResourceExhausted:
		return http.StatusTooManyRequests
	case codes.Unimplemented:
		return http.StatusNotImplemented
	case codes.Unavailable:
		return http.StatusServiceUnavailable
	case codes.Unauthenticated:
		return http.StatusUnauthorized
	}
	return http.StatusInternalServerError
}

// connectWireError is the Connect protocol's error body.
type connectWireError struct {
	Code    connect.Code   `json:"code"`
	Message string         `json:"message,omitempty"`
	Details []connectWireD `json:"details,omitempty"`
}

type connectWireD struct {
	Type  string          `json:"type"`
	Value string          `json:"value"`
	Debug json.RawMessage `json:"debug,omitempty"`
}

// connectError is st as a Connect error body, its details with their
// JSON form to debug.
func (s *stream) connectError(st *status.Status) []byte {
	e := connectWireError{Code: connect.Code(st.Code()), Message: st.Message()}
	for _, a := range st.Proto().GetDetails() {
		d := connectWireD{Type: a.GetTypeUrl()[strings.LastIndexByte(a.GetTypeUrl(), '/')+1:], Value: connect.EncodeBinaryHeader(a.GetValue())}
		if m, err := anypb.UnmarshalNew(a, proto.UnmarshalOptions{}); err == nil {
			if j, err := (protojson.MarshalOptions{Resolver: s.types}).Marshal(m); err == nil {
				d.Debug = j
			}
		}
		e.Details = append(e.Details, d)
	}
	b, err := json.Marshal(e)
	if err != nil {
		return []byte(`{"code":"internal","message":` + strconv.Quote(err.Error()) + `}`)
	}
	return b
}
