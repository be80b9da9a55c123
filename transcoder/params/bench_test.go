package params_test

import (
	"net/url"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/grpc-ecosystem/grpc-gateway/v2/utilities"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	"github.com/portico-gw/portico/transcoder/params"
)

const benchQuery = "page_size=10&genre=GENRE_FICTION&tags=a&tags=b"

// BenchmarkQuery binds a typical query onto ListBooksRequest, generated and
// dynamicpb, with "parent" bound by the path; grpc-gateway's parser (with
// the url.ParseQuery its handlers need) is there for comparison.
func BenchmarkQuery(b *testing.B) {
	variants := bookstoreVariants(b)
	for _, v := range []variant{variants[0], variants[2]} {
		skip := skipFor(b, v.new().Descriptor(), []string{"parent"})
		b.Run(v.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := params.Query(v.new(), benchQuery, skip); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("grpc-gateway", func(b *testing.B) {
		filter := utilities.NewDoubleArray([][]string{{"parent"}})
		parser := &runtime.DefaultQueryParser{}
		b.ReportAllocs()
		for b.Loop() {
			values, err := url.ParseQuery(benchQuery)
			if err != nil {
				b.Fatal(err)
			}
			if err := parser.Parse(&bookstorev1.ListBooksRequest{}, values, filter); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkSet binds one path variable, as the REST door does per request.
func BenchmarkSet(b *testing.B) {
	msg := (&bookstorev1.ListBooksRequest{}).ProtoReflect()
	p, err := params.Resolve(msg.Descriptor(), "min_review.stars")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := params.Set(msg, p, "5"); err != nil {
			b.Fatal(err)
		}
	}
}
