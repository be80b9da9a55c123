package params_test

import (
	"fmt"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	"github.com/portico-gw/portico/transcoder/params"
	"google.golang.org/protobuf/types/dynamicpb"
)

func ExampleQuery() {
	req := &bookstorev1.ListBooksRequest{}
	parent, err := params.Resolve(req.ProtoReflect().Descriptor(), "parent") // once, when the route is built
	if err != nil {
		panic(err)
	}
	skip := params.SkipBound(parent)

	// Per request: the path variable, then the query.
	if err := params.Set(req.ProtoReflect(), parent, "shelves/1"); err != nil {
		panic(err)
	}
	err = params.Query(req.ProtoReflect(), "parent=shelves/2&pageSize=10&genre=GENRE_FICTION&tags=a&tags=b", skip)
	fmt.Println(req.GetParent(), req.GetPageSize(), req.GetGenre(), req.GetTags(), err)

	err = params.Query((&bookstorev1.ListBooksRequest{}).ProtoReflect(), "page_size=ten", skip)
	fmt.Println(err)
	// Output:
	// shelves/1 10 GENRE_FICTION [a b] <nil>
	// rpc error: code = InvalidArgument desc = invalid value for field "page_size": "ten" is not a valid int32
}

func ExampleQuery_dynamic() {
	// A message known only from its descriptor binds the same way.
	md := bookstorev1.File_example_bookstore_v1_bookstore_proto.Messages().ByName("ListBooksRequest")
	req := dynamicpb.NewMessage(md)
	err := params.Query(req, "genre=2&minReview.stars=4&max_age=1h", nil)
	fmt.Println(err)
	fields := md.Fields()
	genre := req.Get(fields.ByName("genre")).Enum()
	review := req.Get(fields.ByName("min_review")).Message()
	stars := review.Get(review.Descriptor().Fields().ByName("stars")).Int()
	fmt.Println(fields.ByName("genre").Enum().Values().ByNumber(genre).Name(), stars)
	// Output:
	// <nil>
	// GENRE_SCIENCE 4
}
