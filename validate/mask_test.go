package validate

import (
	"context"
	"slices"
	"testing"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// TestMaskedValidation (issue 6, point 2): a partial update is validated
// only as far as its update_mask reaches (the mask's fields and what is
// below them); message-level rules of a message only partly in the mask
// are skipped; the rest of the request is validated as usual; no mask, an
// empty one or "*" validates everything.
func TestMaskedValidation(t *testing.T) {
	methods := bookstoreMethods(t)
	m := methods["UpdateBook"]
	st := stage(t, newInterceptor(t), m)
	review := func(stars int32) *bookstorev1.Review { return &bookstorev1.Review{Stars: stars} }
	cases := []struct {
		name       string
		book       *bookstorev1.Book
		paths      []string
		wantFields []string // nil: valid
	}{
		{"only the review: an empty title is not checked", &bookstorev1.Book{TopReview: review(4)}, []string{"top_review"}, nil},
		{"a nested path", &bookstorev1.Book{TopReview: review(4)}, []string{"top_review.stars"}, nil},
		{"a nested path, invalid", &bookstorev1.Book{TopReview: review(9)}, []string{"top_review.stars"}, []string{"book.top_review.stars"}},
		{"the review wholly, invalid", &bookstorev1.Book{TopReview: review(9)}, []string{"top_review"}, []string{"book.top_review.stars"}},
		{"a field the update carries, invalid", &bookstorev1.Book{}, []string{"title"}, []string{"book.title"}},
		{"several fields", &bookstorev1.Book{Title: "ok", PageCount: wrapperspb.Int32(-1), TopReview: review(9)}, []string{"title", "page_count"}, []string{"book.page_count"}},
		{"no mask: everything", &bookstorev1.Book{TopReview: review(4)}, nil, []string{"book.title"}},
		{"*: everything", &bookstorev1.Book{TopReview: review(4)}, []string{"*"}, []string{"book.title"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := &bookstorev1.UpdateBookRequest{Book: tc.book}
			if tc.paths != nil {
				req.UpdateMask = &fieldmaskpb.FieldMask{Paths: tc.paths}
			}
			called := false
			_, err := st.Unary(context.Background(), req, m.UnaryInfo(), func(context.Context, any) (any, error) {
				called = true
				return &bookstorev1.Book{}, nil
			})
			if tc.wantFields == nil {
				if err != nil || !called {
					t.Errorf("got %v (handler called: %v), want valid", err, called)
				}
				return
			}
			if got := violations(t, err); !slices.Equal(got, tc.wantFields) {
				t.Errorf("got fields %q, want %q", got, tc.wantFields)
			}
		})
	}
	// The request's own fields outside the resource are still checked: the
	// book is required.
	_, err := st.Unary(context.Background(), &bookstorev1.UpdateBookRequest{UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"title"}}}, m.UnaryInfo(),
		func(context.Context, any) (any, error) { return nil, nil })
	if got := violations(t, err); !slices.Equal(got, []string{"book"}) {
		t.Errorf("missing book: got fields %q, want [book]", got)
	}
}

// TestMaskedValidationStream: the same on a stream's messages.
func TestMaskedValidationStream(t *testing.T) {
	m := bookstoreMethods(t)["UpdateBook"]
	st := stage(t, newInterceptor(t), m)
	ss := &fakeStream{msgs: []proto.Message{
		&bookstorev1.UpdateBookRequest{Book: &bookstorev1.Book{TopReview: &bookstorev1.Review{Stars: 3}}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"top_review"}}},
	}}
	var got error
	err := st.Stream(nil, ss, m.StreamInfo(), func(_ any, s grpc.ServerStream) error {
		got = s.RecvMsg(&bookstorev1.UpdateBookRequest{})
		return nil
	})
	if err != nil || got != nil {
		t.Errorf("got %v, %v; want the masked message valid", err, got)
	}
}
