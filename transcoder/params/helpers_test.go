package params_test

import (
	"strings"
	"testing"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// checkResult checks the outcome of binding onto got: with wantErr, a
// codes.InvalidArgument status error whose message holds every string of
// wantErr; otherwise no error and a message equal to want, given as
// protojson and parsed into a message from newMsg.
func checkResult(t *testing.T, newMsg func() protoreflect.Message, got protoreflect.Message, err error, want string, wantErr []string) {
	t.Helper()
	if wantErr != nil {
		if err == nil {
			t.Errorf("got no error and %s, want an error containing %q", jsonOf(got), wantErr)
			return
		}
		st, ok := status.FromError(err)
		if !ok || st.Code() != codes.InvalidArgument {
			t.Errorf("got error %v, want an InvalidArgument status error", err)
			return
		}
		for _, w := range wantErr {
			if !strings.Contains(st.Message(), w) {
				t.Errorf("got error message %q, want it to contain %q", st.Message(), w)
			}
		}
		return
	}
	if err != nil {
		t.Errorf("got error %v, want %s", err, want)
		return
	}
	if _, err := proto.Marshal(got.Interface()); err != nil {
		t.Errorf("result does not marshal: %v", err)
	}
	wantMsg := newMsg()
	if err := protojson.Unmarshal([]byte(want), wantMsg.Interface()); err != nil {
		t.Fatalf("bad test case: want %s: %v", want, err)
	}
	if !proto.Equal(got.Interface(), wantMsg.Interface()) {
		t.Errorf("got %s, want %s", jsonOf(got), jsonOf(wantMsg))
	}
}

// jsonOf renders m for a failure message.
func jsonOf(m protoreflect.Message) string {
	b, err := protojson.Marshal(m.Interface())
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(b)
}

// asGenerated converts a ListBooksRequest in any representation to the
// generated type, through the wire format.
func asGenerated(t *testing.T, m protoreflect.Message) *bookstorev1.ListBooksRequest {
	t.Helper()
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m.Interface())
	if err != nil {
		t.Fatalf("marshal %s: %v", m.Descriptor().FullName(), err)
	}
	out := &bookstorev1.ListBooksRequest{}
	if err := proto.Unmarshal(b, out); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	return out
}

// sameAcrossVariants checks that every representation gave the same result
// (by wire content) and the same error as the first.
func sameAcrossVariants(t *testing.T, names []string, msgs []protoreflect.Message, errs []error) {
	t.Helper()
	for i := 1; i < len(msgs); i++ {
		if (errs[0] == nil) != (errs[i] == nil) || (errs[0] != nil && errs[0].Error() != errs[i].Error()) {
			t.Errorf("%s: got error %v, %s: got error %v; want the same", names[0], errs[0], names[i], errs[i])
			continue
		}
		if errs[0] != nil {
			continue
		}
		if a, b := asGenerated(t, msgs[0]), asGenerated(t, msgs[i]); !proto.Equal(a, b) {
			t.Errorf("%s: got %v, %s: got %v; want the same", names[0], a, names[i], b)
		}
	}
}
