// Package config reads Portico's YAML config file into the
// portico.config.v1.Config message and checks it, reporting every problem
// with the field path where it is, in the file's own terms.
//
// A config file looks like this (keys are the proto field names of
// portico.config.v1.Config, in snake_case):
//
//	listen:
//	  http: 127.0.0.1:8080          # REST/JSON door (default 127.0.0.1:8080)
//	  grpc: 127.0.0.1:9090          # gRPC door (optional)
//	  admin: 127.0.0.1:9901         # /healthz, /readyz (optional)
//	descriptors:                    # FileDescriptorSets with imports
//	  - apis/bookstore.binpb
//	http_rules:                     # optional gRPC API Configuration files
//	  - apis/bookstore_http.yaml
//	integrations:
//	  - name: bookstore
//	    grpc:
//	      target: 127.0.0.1:50051
//	      timeout: 10s
//	apis:
//	  - services: [example.bookstore.v1.BookstoreService]
//	    integration: bookstore
//
// Reading a file goes through these steps, and a file is accepted only if
// none finds a problem. Every step runs, even after problems, on what could
// be read, so that one run reports every problem:
//
//  1. The YAML is parsed (go.yaml.in/yaml/v3) and decoded into the message
//     by buf.build/go/protoyaml, which places each value it cannot decode
//     (a number out of range, say) at its line and column.
//  2. A thin layer (shape.go) goes over the same document: keys are the
//     proto field names (a typo, a lowerCamel or a numbered key gets a
//     suggestion), duplicate keys are errors, null means unset, values of
//     the wrong shape are named in the file's terms, and durations are
//     Go-style ("10s", "500ms", "1h30m").
//  3. Defaults are filled in (listen.http = [DefaultHTTPAddress]) and the
//     buf.validate rules of the schema are checked with protovalidate.
//  4. Rules the schema cannot express are checked: names are unique and
//     references resolve (apis[].integration, routes[].integration), a
//     service is listed once, listen addresses, grpc targets and URLs are
//     well-formed, and two doors do not share an address.
//
// Problems are returned together as [Errors], one [Error] per problem, each
// with the file, line, column and key path, in file order. Later phases
// (building a snapshot, the catalog) report problems by key path;
// [File.Locate] and [File.Join] place them in the file and merge them with
// the file's own.
package config
