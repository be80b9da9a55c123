package params_test

import (
	"strings"
	"testing"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	"github.com/portico-gw/portico/transcoder/params"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
)

func TestResolve(t *testing.T) {
	update := (&bookstorev1.UpdateBookRequest{}).ProtoReflect().Descriptor()
	list := (&bookstorev1.ListBooksRequest{}).ProtoReflect().Descriptor()
	kinds := kindsMessage(t).Descriptor()
	tests := []struct {
		md       protoreflect.MessageDescriptor
		dotted   string
		wantKind protoreflect.Kind // of the last field
		wantErr  []string
	}{
		{md: update, dotted: "book.name", wantKind: protoreflect.StringKind},
		{md: update, dotted: "book", wantKind: protoreflect.MessageKind},
		{md: update, dotted: "book.top_review.stars", wantKind: protoreflect.Int32Kind},
		{md: update, dotted: "update_mask.paths", wantKind: protoreflect.StringKind},
		{md: update, dotted: "book.tags", wantKind: protoreflect.StringKind},
		{md: list, dotted: "author.value", wantKind: protoreflect.StringKind},
		{md: kinds, dotted: "labels", wantKind: protoreflect.MessageKind},
		{md: kinds, dotted: "inner.next.s", wantKind: protoreflect.StringKind},
		{md: update, dotted: "book.nope", wantErr: []string{`"nope"`, "example.bookstore.v1.Book", `"book.nope"`}},
		{md: update, dotted: "nope.name", wantErr: []string{`"nope"`, "example.bookstore.v1.UpdateBookRequest"}},
		{md: update, dotted: "", wantErr: []string{"empty"}},
		{md: update, dotted: "book..name", wantErr: []string{`""`}},
		{md: update, dotted: ".book", wantErr: []string{`""`}},
		{md: update, dotted: "book.", wantErr: []string{`""`}},
		{md: update, dotted: "book.name.x", wantErr: []string{`"book.name"`, "not a singular message"}},
		{md: update, dotted: "book.tags.x", wantErr: []string{`"book.tags"`, "not a singular message"}},
		{md: list, dotted: "pageSize", wantErr: []string{`"pageSize"`}}, // proto names only, as in google.api.http
		{md: kinds, dotted: "labels.key", wantErr: []string{`"labels"`, "not a singular message"}},
		{md: kinds, dotted: "inners.s", wantErr: []string{`"inners"`, "not a singular message"}},
	}
	for _, tc := range tests {
		t.Run(string(tc.md.Name())+"/"+tc.dotted, func(t *testing.T) {
			p, err := params.Resolve(tc.md, tc.dotted)
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("got %v, want an error", p)
				}
				if got := status.Code(err); got != codes.InvalidArgument {
					t.Errorf("got code %v, want InvalidArgument", got)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("got error %q, want it to contain %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			if got := p.String(); got != tc.dotted {
				t.Errorf("got String() %q, want %q", got, tc.dotted)
			}
			if got := p[len(p)-1].Kind(); got != tc.wantKind {
				t.Errorf("got last field kind %v, want %v", got, tc.wantKind)
			}
			if got := p[0].ContainingMessage(); got != tc.md {
				t.Errorf("got first field of %v, want %v", got.FullName(), tc.md.FullName())
			}
		})
	}
}

func TestPathString(t *testing.T) {
	if got := params.Path(nil).String(); got != "" {
		t.Errorf("got %q for an empty path, want %q", got, "")
	}
}

func TestSkipBound(t *testing.T) {
	md := (&bookstorev1.ListBooksRequest{}).ProtoReflect().Descriptor()
	if got := params.SkipBound(); got != nil {
		t.Errorf("got a skip function for no bound paths, want nil")
	}
	skip := skipFor(t, md, []string{"parent", "author.value", "min_review"})
	tests := []struct {
		path string
		want bool
	}{
		{"parent", true},
		{"parent.x", true},
		{"parentx", false},
		{"paren", false},
		{"author", true},
		{"author.value", true},
		{"author.valu", false},
		{"min_review", true},
		{"min_review.stars", true},
		{"min", false},
		{"page_size", false},
	}
	for _, tc := range tests {
		if got := skip(tc.path); got != tc.want {
			t.Errorf("skip(%q) = %v, want %v", tc.path, got, tc.want)
		}
	}
}
