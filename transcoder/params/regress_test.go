package params_test

import (
	"strings"
	"testing"

	"github.com/portico-gw/portico/transcoder/params"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// One test per reported problem, named for it.

// TestRegressQueryDeepPath (issue 14, point 6): a field path in a query
// parameter had no depth bound, so one 64 KiB query built a message nested
// 10,800 levels deep (36 MB of RSS, and a message no backend accepts). A
// path as deep as the recursion limit is refused before anything is built,
// whatever the spelling of its dots.
func TestRegressQueryDeepPath(t *testing.T) {
	deep := "inner_plain." + strings.Repeat("next.", 9_000) + "s=x"
	for name, query := range map[string]string{
		"dots":         deep,
		"encoded dots": strings.ReplaceAll(deep, ".", "%2E"),
		"json names":   "innerPlain." + strings.Repeat("next.", 9_000) + "n=1",
		"unknown head": "nope." + strings.Repeat("next.", 9_000) + "s=x",
	} {
		t.Run(name, func(t *testing.T) {
			msg := kindsMessage(t)
			err := params.Query(msg, query, nil)
			if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "deeper than") {
				t.Fatalf("got error %v, want InvalidArgument naming the depth bound", err)
			}
			if n := proto.Size(msg.Interface()); n != 0 {
				t.Errorf("got a %d-byte message built before the refusal, want nothing built", n)
			}
		})
	}
	// A path at the bound is still bound (the recursion limit counts the
	// request message itself).
	msg := kindsMessage(t)
	query := "inner_plain." + strings.Repeat("next.", params.DefaultMaxDepth-3) + "s=x"
	if err := params.Query(msg, query, nil); err != nil {
		t.Errorf("a path of %d fields: got %v, want it bound", params.DefaultMaxDepth-1, err)
	}
}

// TestRegressQueryDeepJSON (issue 14, point 6): a Struct, Value or
// ListValue given in a query parameter (or a path variable) was decoded
// with protojson's default recursion limit of 10,000, past the gateway's
// own nesting bound. Its JSON now obeys the same recursion limit as the
// rest of the message.
func TestRegressQueryDeepJSON(t *testing.T) {
	deep := strings.Repeat("[", 200) + strings.Repeat("]", 200)
	msg := kindsMessage(t)
	if err := params.Query(msg, "val="+deep, nil); status.Code(err) != codes.InvalidArgument {
		t.Errorf("query: got error %v, want InvalidArgument", err)
	}
	p, err := params.Resolve(msg.Descriptor(), "val")
	if err != nil {
		t.Fatal(err)
	}
	if err := params.Set(kindsMessage(t), p, deep); status.Code(err) != codes.InvalidArgument {
		t.Errorf("path variable: got error %v, want InvalidArgument", err)
	}
	shallow := strings.Repeat("[", 20) + strings.Repeat("]", 20)
	if err := params.Query(kindsMessage(t), "val="+shallow, nil); err != nil {
		t.Errorf("20 levels: got %v, want it bound", err)
	}
}
