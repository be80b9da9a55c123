package httprule_test

import (
	"fmt"
	"strings"

	"github.com/portico-gw/portico/catalog/httprule"
)

func ExampleParse() {
	tpl, err := httprule.Parse("/v1/{book.name=shelves/*/books/*}:move")
	if err != nil {
		panic(err)
	}
	fmt.Println(tpl.Shape())
	fmt.Println(tpl.Verb)
	for _, v := range tpl.Vars {
		fmt.Printf("%s covers segments [%d,%d)\n", strings.Join(v.FieldPath, "."), v.Start, v.End)
	}
	// Output:
	// /v1/shelves/*/books/*:move
	// move
	// book.name covers segments [1,5)
}

func ExampleParse_error() {
	_, err := httprule.Parse("/v1/{path=**}/versions")
	fmt.Println(err)
	// Output:
	// httprule: template "/v1/{path=**}/versions": "**" must be the last segment (at offset 10)
}

func ExampleTemplate_String() {
	tpl, err := httprule.Parse("/v1/{name=*}/{parent=projects/*}")
	if err != nil {
		panic(err)
	}
	fmt.Println(tpl)
	// Output:
	// /v1/{name}/{parent=projects/*}
}
