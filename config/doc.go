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
// Reading a file goes through four steps, and a file is accepted only if all
// of them pass:
//
//  1. YAML is converted to JSON (duplicate keys are an error).
//  2. The JSON tree is walked against the message descriptor: unknown keys,
//     lowerCamel spellings of snake_case keys and values of the wrong type are
//     reported with their path. Durations are Go-style ("10s", "500ms",
//     "1h30m") and are rewritten into the proto3 JSON form here.
//  3. The tree is decoded with protojson, defaults are filled in
//     (listen.http = [DefaultHTTPAddress]), and the buf.validate rules of the
//     schema are checked with protovalidate.
//  4. Rules the schema cannot express are checked: integration names are
//     unique, every apis[].integration names an integration, a service is
//     listed once, and listen addresses are host:port and distinct.
//
// Problems are returned together as [Errors], one [Error] per problem.
package config
