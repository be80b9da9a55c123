// Package hotpath holds in-process benchmarks of Portico's hot paths
// against grpc-gateway's generated handlers for the same API, run by hand:
//
//	go test -run='^$' -bench . -benchmem -benchtime=2s ./bench/hotpath/
//
// Each benchmark starts the example bookstore backend on a loopback port,
// and Portico (through servertest) and/or a grpc-gateway runtime.ServeMux
// in front of it, with the bookstore and the 50-route inventory API
// registered in both. Allocation counts cover the whole process: client,
// gateway and backend.
package hotpath
