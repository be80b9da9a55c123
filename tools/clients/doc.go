// Package clients pins third-party clients the tests run against Portico
// (server/foreign_clients_test.go): programs we did not write, built with
// their own dependency versions, not the gateway's. It is a module of its
// own so that its versions never touch the gateway's or tools/go.mod's.
package clients
