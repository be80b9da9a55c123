package params_test

import (
	"strings"
	"testing"

	"github.com/portico-gw/portico/transcoder/params"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// queryCase is a query, the paths already bound (skipped), and either the
// message it should produce (protojson) or the strings its InvalidArgument
// error should contain.
type queryCase struct {
	name    string
	query   string
	bound   []string
	want    string
	wantErr []string
}

// skipFor resolves bound against md into a skip function.
func skipFor(t testing.TB, md protoreflect.MessageDescriptor, bound []string) func(string) bool {
	t.Helper()
	paths := make([]params.Path, len(bound))
	for i, b := range bound {
		p, err := params.Resolve(md, b)
		if err != nil {
			t.Fatalf("Resolve(%q): %v", b, err)
		}
		paths[i] = p
	}
	return params.SkipBound(paths...)
}

var bookstoreQueryCases = []queryCase{
	// Scalars, by proto and JSON name.
	{name: "empty", query: "", want: `{}`},
	{name: "int32", query: "page_size=10", want: `{"pageSize":10}`},
	{name: "int32 json name", query: "pageSize=10", want: `{"pageSize":10}`},
	{name: "int32 negative", query: "page_size=-5", want: `{"pageSize":-5}`},
	{name: "int32 plus sign encoded", query: "page_size=%2B7", want: `{"pageSize":7}`},
	{name: "int32 max", query: "page_size=2147483647", want: `{"pageSize":2147483647}`},
	{name: "string", query: "parent=shelves/1", want: `{"parent":"shelves/1"}`},
	{name: "string plus is space", query: "parent=a+b%20c", want: `{"parent":"a b c"}`},
	{name: "string utf8", query: "parent=%E2%82%AC", want: `{"parent":"€"}`},
	{name: "string key without value", query: "parent", want: `{}`},
	{name: "string value with equals", query: "parent=a=b", want: `{"parent":"a=b"}`},
	{name: "bool true", query: "include_drafts=true", want: `{"includeDrafts":true}`},
	{name: "bool 1", query: "includeDrafts=1", want: `{"includeDrafts":true}`},
	{name: "bool F", query: "include_drafts=F", want: `{}`},
	{name: "bool TRUE", query: "include_drafts=TRUE", want: `{"includeDrafts":true}`},
	{name: "double", query: "min_rating=4.5", want: `{"minRating":4.5}`},
	{name: "double exponent", query: "minRating=1e3", want: `{"minRating":1000}`},
	{name: "double NaN", query: "min_rating=NaN", want: `{"minRating":"NaN"}`},
	{name: "double Infinity", query: "min_rating=Infinity", want: `{"minRating":"Infinity"}`},
	{name: "double -Infinity", query: "min_rating=-Infinity", want: `{"minRating":"-Infinity"}`},
	// Enums.
	{name: "enum name", query: "genre=GENRE_FICTION", want: `{"genre":"GENRE_FICTION"}`},
	{name: "enum number", query: "genre=2", want: `{"genre":"GENRE_SCIENCE"}`},
	{name: "enum undefined number in open enum", query: "genre=99", want: `{"genre":99}`},
	{name: "repeated enum", query: "genres=GENRE_FICTION&genres=3", want: `{"genres":["GENRE_FICTION","GENRE_HISTORY"]}`},
	// Repeated.
	{name: "repeated string", query: "tags=a&tags=b", want: `{"tags":["a","b"]}`},
	{name: "repeated string interleaved", query: "tags=a&page_size=1&tags=b&tags=", want: `{"tags":["a","b",""],"pageSize":1}`},
	// Well-known types.
	{name: "timestamp", query: "published_after=2024-05-01T12:00:00Z", want: `{"publishedAfter":"2024-05-01T12:00:00Z"}`},
	{name: "timestamp nanos", query: "publishedAfter=2016-12-15T12:23:32.000000049Z", want: `{"publishedAfter":"2016-12-15T12:23:32.000000049Z"}`},
	{name: "timestamp offset", query: "published_after=2024-05-01T14:00:00%2B02:00", want: `{"publishedAfter":"2024-05-01T12:00:00Z"}`},
	{name: "timestamp min", query: "published_after=0001-01-01T00:00:00Z", want: `{"publishedAfter":"0001-01-01T00:00:00Z"}`},
	{name: "timestamp subfield", query: "published_after.seconds=5", want: `{"publishedAfter":"1970-01-01T00:00:05Z"}`},
	{name: "duration", query: "max_age=1.5s", want: `{"maxAge":"1.5s"}`},
	{name: "duration go syntax", query: "maxAge=1h30m", want: `{"maxAge":"5400s"}`},
	{name: "duration negative", query: "max_age=-300ms", want: `{"maxAge":"-0.3s"}`},
	{name: "duration then subfield", query: "max_age=1s&max_age.nanos=5", want: `{"maxAge":"1.000000005s"}`},
	{name: "field mask", query: "read_mask=title,author.name", want: `{"readMask":"title,author.name"}`},
	{name: "field mask as given", query: "read_mask=publish_time", want: `{"readMask":"publishTime"}`},
	{name: "field mask empty", query: "read_mask=", want: `{"readMask":""}`},
	{name: "string wrapper", query: "author=Alice", want: `{"author":"Alice"}`},
	{name: "string wrapper empty is present", query: "author=", want: `{"author":""}`},
	{name: "string wrapper value subfield", query: "author.value=Bob", want: `{"author":"Bob"}`},
	// Nested messages.
	{name: "nested", query: "min_review.stars=4&min_review.reviewer=ann", want: `{"minReview":{"stars":4,"reviewer":"ann"}}`},
	{name: "nested json names", query: "minReview.stars=4", want: `{"minReview":{"stars":4}}`},
	// Ignored keys.
	{name: "unknown key", query: "unknown=1&page_size=2", want: `{"pageSize":2}`},
	{name: "unknown nested key", query: "min_review.unknown=1", want: `{}`},
	{name: "unknown key bad utf8 value", query: "unknown=%ff", want: `{}`},
	{name: "unknown key map syntax", query: "unknown[a]=1", want: `{}`},
	{name: "empty pairs", query: "&&page_size=1&", want: `{"pageSize":1}`},
	{name: "empty key", query: "=5", want: `{}`},
	{name: "bound path variable", query: "parent=x&page_size=1", bound: []string{"parent"}, want: `{"pageSize":1}`},
	{name: "bound path variable json name", query: "min_review.stars=1", bound: []string{"min_review.stars"}, want: `{}`},
	{name: "under a bound field", query: "minReview.stars=3&tags=a", bound: []string{"min_review"}, want: `{"tags":["a"]}`},
	{name: "containing a bound field", query: "author=x", bound: []string{"author.value"}, want: `{}`},
	{name: "bound field with bad value", query: "parent=%ff", bound: []string{"parent"}, want: `{}`},
	{name: "beside a bound field", query: "min_review.stars=3", bound: []string{"min_review.reviewer"}, want: `{"minReview":{"stars":3}}`},
	{
		name:  "typical",
		query: "page_size=10&genre=GENRE_FICTION&tags=a&tags=b&published_after=2024-01-01T00:00:00Z&read_mask=title&include_drafts=true&min_rating=3.5&author=Ann&max_age=24h&genres=1&min_review.stars=5",
		want: `{"pageSize":10,"genre":"GENRE_FICTION","tags":["a","b"],"publishedAfter":"2024-01-01T00:00:00Z",
			"readMask":"title","includeDrafts":true,"minRating":3.5,"author":"Ann","maxAge":"86400s",
			"genres":["GENRE_FICTION"],"minReview":{"stars":5}}`,
	},

	// Errors: bad values of every kind.
	{name: "int32 syntax", query: "page_size=x", wantErr: []string{`field "page_size"`, `"x"`, "int32"}},
	{name: "int32 empty", query: "page_size=", wantErr: []string{`field "page_size"`, `""`}},
	{name: "int32 fraction", query: "page_size=1.5", wantErr: []string{`field "page_size"`, `"1.5"`}},
	{name: "int32 range", query: "page_size=2147483648", wantErr: []string{`field "page_size"`, `"2147483648"`, "out of range"}},
	{name: "bool", query: "include_drafts=yes", wantErr: []string{`field "include_drafts"`, `"yes"`, "bool"}},
	{name: "bool key only", query: "include_drafts", wantErr: []string{`field "include_drafts"`}},
	{name: "double syntax", query: "min_rating=abc", wantErr: []string{`field "min_rating"`, `"abc"`}},
	{name: "double hex", query: "min_rating=0x10", wantErr: []string{`field "min_rating"`, `"0x10"`}},
	{name: "double underscore", query: "min_rating=1_000", wantErr: []string{`"1_000"`}},
	{name: "double inf", query: "min_rating=inf", wantErr: []string{`"inf"`}},
	{name: "double lowercase nan", query: "min_rating=nan", wantErr: []string{`"nan"`}},
	{name: "double range", query: "min_rating=1e400", wantErr: []string{`"1e400"`, "out of range"}},
	{name: "enum unknown name", query: "genre=FOO", wantErr: []string{`field "genre"`, `"FOO"`, "example.bookstore.v1.Genre"}},
	{name: "enum lowercase name", query: "genre=genre_fiction", wantErr: []string{`"genre_fiction"`}},
	{name: "enum fraction", query: "genre=1.5", wantErr: []string{`"1.5"`}},
	{name: "repeated enum bad", query: "genres=1&genres=BAD", wantErr: []string{`field "genres"`, `"BAD"`}},
	{name: "string bad utf8", query: "parent=%ff", wantErr: []string{`field "parent"`, `"\xff"`, "UTF-8"}},
	{name: "repeated string bad utf8", query: "tags=%C3%28", wantErr: []string{`field "tags"`, "UTF-8"}},
	{name: "wrapper bad utf8", query: "author=%ff", wantErr: []string{`field "author"`, "UTF-8"}},
	{name: "field mask bad utf8", query: "read_mask=a,%ff", wantErr: []string{`field "read_mask"`, "UTF-8"}},
	{name: "timestamp syntax", query: "published_after=yesterday", wantErr: []string{`field "published_after"`, `"yesterday"`}},
	{name: "timestamp without zone", query: "published_after=2024-05-01T12:00:00", wantErr: []string{`"2024-05-01T12:00:00"`}},
	{name: "timestamp year zero", query: "published_after=0000-12-31T00:00:00Z", wantErr: []string{"out of range"}},
	{name: "duration without unit", query: "max_age=5", wantErr: []string{`field "max_age"`, `"5"`}},
	{name: "duration overflow", query: "max_age=3000000h", wantErr: []string{`"3000000h"`}},
	{name: "nested bad value", query: "min_review.stars=many", wantErr: []string{`field "min_review.stars"`, `"many"`}},
	{name: "nested json names bad value", query: "minReview.stars=many", wantErr: []string{`field "min_review.stars"`}},

	// Errors: keys.
	{name: "message field", query: "min_review=good", wantErr: []string{`message field "min_review"`, "example.bookstore.v1.Review"}},
	{name: "through a scalar", query: "page_size.x=1", wantErr: []string{`"page_size.x"`, `field "page_size"`}},
	{name: "through a repeated field", query: "tags.x=1", wantErr: []string{`"tags.x"`, `field "tags"`}},
	{name: "map syntax on a non-map", query: "tags[a]=1", wantErr: []string{`"tags[a]"`, "not a map"}},
	{name: "singular twice", query: "page_size=1&page_size=2", wantErr: []string{`field "page_size"`, "more than once"}},
	{name: "singular twice by both names", query: "page_size=1&pageSize=1", wantErr: []string{`field "page_size"`, "more than once"}},
	{name: "wrapper twice", query: "author=a&author=b", wantErr: []string{`field "author"`, "more than once"}},

	// Errors: the query string itself.
	{name: "bad escape in value", query: "a=%zz", wantErr: []string{"percent-encoding"}},
	{name: "bad escape in key", query: "%zz=1", wantErr: []string{"percent-encoding", `"%zz"`}},
	{name: "truncated escape", query: "page_size=1%2", wantErr: []string{"percent-encoding"}},
	{name: "semicolon", query: "page_size=1;tags=a", wantErr: []string{"semicolon"}},
	{name: "too many parameters", query: strings.Repeat("x=1&", 1000), wantErr: []string{"more than 1000 parameters"}},
	{name: "too long", query: "parent=" + strings.Repeat("a", 64<<10), wantErr: []string{"longer than"}},
}

// TestQueryBookstore runs every case on ListBooksRequest as a generated
// message, as dynamicpb over the generated descriptors and as dynamicpb over
// descriptors loaded from a descriptor set, and checks all three agree.
func TestQueryBookstore(t *testing.T) {
	variants := bookstoreVariants(t)
	for _, tc := range bookstoreQueryCases {
		t.Run(tc.name, func(t *testing.T) {
			names := make([]string, len(variants))
			msgs := make([]protoreflect.Message, len(variants))
			errs := make([]error, len(variants))
			for i, v := range variants {
				names[i], msgs[i] = v.name, v.new()
				errs[i] = params.Query(msgs[i], tc.query, skipFor(t, msgs[i].Descriptor(), tc.bound))
				t.Run(v.name, func(t *testing.T) {
					checkResult(t, v.new, msgs[i], errs[i], tc.want, tc.wantErr)
				})
			}
			sameAcrossVariants(t, names, msgs, errs)
		})
	}
}

// TestQueryLimits checks the bounds at their edges.
func TestQueryLimits(t *testing.T) {
	newMsg := bookstoreVariants(t)[2].new
	tests := []struct {
		name    string
		query   string
		wantErr bool
	}{
		{"1000 parameters", "tags=a" + strings.Repeat("&tags=a", 999), false},
		{"1001 parameters", "tags=a" + strings.Repeat("&tags=a", 1000), true},
		{"64 KiB", "parent=" + strings.Repeat("a", 64<<10-len("parent=")), false},
		{"64 KiB + 1", "parent=" + strings.Repeat("a", 64<<10-len("parent=")+1), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := params.Query(newMsg(), tc.query, nil)
			if gotErr := err != nil; gotErr != tc.wantErr {
				t.Errorf("got error %v, want error: %v", err, tc.wantErr)
			}
		})
	}
}

// TestQueryErrorMessageBounded checks that an error repeats at most a
// bounded prefix of a long value, and stays valid UTF-8.
func TestQueryErrorMessageBounded(t *testing.T) {
	long := strings.Repeat("\xff", 60<<10)
	err := params.Query(bookstoreVariants(t)[0].new(), "parent="+long, nil)
	if err == nil {
		t.Fatal("got no error, want one")
	}
	if got := len(err.Error()); got > 512 {
		t.Errorf("got a %d-byte error message, want at most 512", got)
	}
	if msg := err.Error(); !strings.Contains(msg, `\xff`) || strings.ContainsRune(msg, '\uFFFD') {
		t.Errorf("got error message %q, want the value escaped", msg)
	}
}
