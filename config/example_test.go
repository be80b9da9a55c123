package config_test

import (
	"errors"
	"fmt"

	"github.com/portico-gw/portico/config"
)

func ExampleParse() {
	f, err := config.Parse([]byte(`
descriptors: [apis/bookstore.binpb]
integrations:
  - name: bookstore
    grpc:
      target: 127.0.0.1:50051
      timeout: 1m30s
apis:
  - services: [example.bookstore.v1.BookstoreService]
    integration: bookstore
`), "/etc/portico")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(f.Config.GetListen().GetHttp())
	fmt.Println(f.Config.GetIntegrations()[0].GetGrpc().GetTimeout().AsDuration())
	fmt.Println(f.Resolve(f.Config.GetDescriptors()[0]))
	// Output:
	// 127.0.0.1:8080
	// 1m30s
	// /etc/portico/apis/bookstore.binpb
}

func ExampleErrors() {
	_, err := config.Parse([]byte(`
integrations:
  - name: bookstore
    grcp: {target: "127.0.0.1:50051"}
apis:
  - services: [example.bookstore.v1.BookstoreService]
    integration: bookstor
`), "/etc/portico")
	var errs config.Errors
	if errors.As(err, &errs) {
		for _, e := range errs {
			fmt.Printf("line %d, column %d: %s: %s\n", e.Line, e.Column, e.Field, e.Message)
		}
	}
	// Output:
	// line 4, column 5: integrations[0].grcp: unknown key (did you mean "grpc"?)
	// line 7, column 18: apis[0].integration: unknown integration "bookstor" (known: bookstore)
}
