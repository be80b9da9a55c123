package params_test

import (
	"testing"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	"github.com/portico-gw/portico/transcoder/params"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// setCall is one Set, of the value at the dotted path.
type setCall struct{ path, value string }

// setCase is a sequence of Set calls and either the message they should
// produce (protojson) or the error the last one should give.
type setCase struct {
	name    string
	calls   []setCall
	want    string
	wantErr []string
}

// runSetCase resolves and applies tc's calls on a message from newMsg.
func runSetCase(t *testing.T, newMsg func() protoreflect.Message, tc setCase) (protoreflect.Message, error) {
	t.Helper()
	msg := newMsg()
	var err error
	for i, c := range tc.calls {
		p, rerr := params.Resolve(msg.Descriptor(), c.path)
		if rerr != nil {
			t.Fatalf("Resolve(%q): %v", c.path, rerr)
		}
		err = params.Set(msg, p, c.value)
		if err != nil && i < len(tc.calls)-1 {
			t.Fatalf("Set(%q, %q): got error %v before the last call", c.path, c.value, err)
		}
	}
	return msg, err
}

// bookstoreSetCases are Set cases on ListBooksRequest.
var bookstoreSetCases = []setCase{
	{name: "string", calls: []setCall{{"parent", "shelves/1"}}, want: `{"parent":"shelves/1"}`},
	{name: "string raw, no decoding", calls: []setCall{{"parent", "a+b%20"}}, want: `{"parent":"a+b%20"}`},
	{name: "int32", calls: []setCall{{"page_size", "7"}}, want: `{"pageSize":7}`},
	{name: "enum", calls: []setCall{{"genre", "GENRE_POETRY"}}, want: `{"genre":"GENRE_POETRY"}`},
	{name: "repeated appends", calls: []setCall{{"tags", "a"}, {"tags", "b"}}, want: `{"tags":["a","b"]}`},
	{name: "repeated enum", calls: []setCall{{"genres", "1"}}, want: `{"genres":["GENRE_FICTION"]}`},
	{name: "singular overwrites", calls: []setCall{{"page_size", "1"}, {"page_size", "2"}}, want: `{"pageSize":2}`},
	{name: "nested creates parents", calls: []setCall{{"min_review.stars", "5"}}, want: `{"minReview":{"stars":5}}`},
	{name: "nested keeps siblings", calls: []setCall{{"min_review.stars", "5"}, {"min_review.reviewer", "r"}}, want: `{"minReview":{"stars":5,"reviewer":"r"}}`},
	{name: "timestamp", calls: []setCall{{"published_after", "2024-05-01T12:00:00Z"}}, want: `{"publishedAfter":"2024-05-01T12:00:00Z"}`},
	{name: "duration", calls: []setCall{{"max_age", "2s"}}, want: `{"maxAge":"2s"}`},
	{name: "field mask", calls: []setCall{{"read_mask", "a,b.c"}}, want: `{"readMask":"a,b.c"}`},
	{name: "wrapper", calls: []setCall{{"author", "x"}}, want: `{"author":"x"}`},
	{name: "wrapper value", calls: []setCall{{"author.value", "x"}}, want: `{"author":"x"}`},
	{name: "bool", calls: []setCall{{"include_drafts", "t"}}, want: `{"includeDrafts":true}`},
	{name: "double", calls: []setCall{{"min_rating", "-0.5"}}, want: `{"minRating":-0.5}`},
	{name: "bad int", calls: []setCall{{"page_size", "x"}}, wantErr: []string{`invalid value for field "page_size"`, `"x"`}},
	{name: "bad enum", calls: []setCall{{"genre", "NOPE"}}, wantErr: []string{`field "genre"`, `"NOPE"`}},
	{name: "bad nested", calls: []setCall{{"min_review.stars", ""}}, wantErr: []string{`field "min_review.stars"`}},
	{name: "bad utf8", calls: []setCall{{"parent", "\xff"}}, wantErr: []string{`field "parent"`, "UTF-8"}},
	{name: "bad timestamp", calls: []setCall{{"published_after", "now"}}, wantErr: []string{`field "published_after"`, `"now"`}},
	{name: "message", calls: []setCall{{"min_review", "x"}}, wantErr: []string{`message field "min_review"`, "example.bookstore.v1.Review"}},
}

func TestSetBookstore(t *testing.T) {
	variants := bookstoreVariants(t)
	for _, tc := range bookstoreSetCases {
		t.Run(tc.name, func(t *testing.T) {
			names := make([]string, len(variants))
			msgs := make([]protoreflect.Message, len(variants))
			errs := make([]error, len(variants))
			for i, v := range variants {
				names[i] = v.name
				msgs[i], errs[i] = runSetCase(t, v.new, tc)
				t.Run(v.name, func(t *testing.T) {
					checkResult(t, v.new, msgs[i], errs[i], tc.want, tc.wantErr)
				})
			}
			sameAcrossVariants(t, names, msgs, errs)
		})
	}
}

func TestSetKinds(t *testing.T) {
	tests := []setCase{
		{name: "bytes", calls: []setCall{{"b", "aGk"}}, want: `{"b":"aGk="}`},
		{name: "uint64", calls: []setCall{{"u64", "18446744073709551615"}}, want: `{"u64":"18446744073709551615"}`},
		{name: "float", calls: []setCall{{"fl", "0.25"}}, want: `{"fl":0.25}`},
		{name: "oneof member", calls: []setCall{{"number", "3"}}, want: `{"number":3}`},
		{name: "oneof same member again", calls: []setCall{{"number", "3"}, {"number", "4"}}, want: `{"number":4}`},
		{name: "oneof message member twice", calls: []setCall{{"inner.s", "a"}, {"inner.n", "1"}}, want: `{"inner":{"s":"a","n":1}}`},
		{name: "oneof conflict", calls: []setCall{{"number", "3"}, {"name", "x"}}, wantErr: []string{`cannot set field "name"`, `"number"`, `"choice"`}},
		{name: "oneof conflict on the way", calls: []setCall{{"name", "x"}, {"inner.s", "a"}}, wantErr: []string{`"inner"`, `"name"`}},
		{name: "proto3 optional", calls: []setCall{{"opt", "0"}}, want: `{"opt":0}`},
		{name: "repeated timestamps", calls: []setCall{{"rts", "2024-01-01T00:00:00Z"}, {"rts", "2024-01-02T00:00:00Z"}}, want: `{"rts":["2024-01-01T00:00:00Z","2024-01-02T00:00:00Z"]}`},
		{name: "list value", calls: []setCall{{"lv", "[1]"}}, want: `{"lv":[1]}`},
		{name: "map", calls: []setCall{{"labels", "1"}}, wantErr: []string{`map field "labels"`}},
		{name: "repeated message", calls: []setCall{{"inners", "x"}}, wantErr: []string{`message field "inners"`}},
	}
	newMsg := func() protoreflect.Message { return kindsMessage(t) }
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg, err := runSetCase(t, newMsg, tc)
			checkResult(t, newMsg, msg, err, tc.want, tc.wantErr)
		})
	}
}

// TestSetWrongMessage checks that a path used on a message of another type
// is an Internal error rather than a panic.
func TestSetWrongMessage(t *testing.T) {
	p, err := params.Resolve((&bookstorev1.ListBooksRequest{}).ProtoReflect().Descriptor(), "parent")
	if err != nil {
		t.Fatal(err)
	}
	err = params.Set((&bookstorev1.GetBookRequest{}).ProtoReflect(), p, "x")
	if got := status.Code(err); got != codes.Internal {
		t.Errorf("got %v (code %v), want an Internal error", err, got)
	}
	if err := params.Set(kindsMessage(t), nil, "x"); status.Code(err) != codes.InvalidArgument {
		t.Errorf("Set with an empty path: got %v, want InvalidArgument", err)
	}
}
