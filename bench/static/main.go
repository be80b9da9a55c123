// Command static is the HTTP backend of the routes benchmark: it answers
// every request with the same small JSON document (a book, as the
// bookstore would), so what is measured in front of it is the proxying.
//
//	static -listen 127.0.0.1:0
//
// It prints "listening on ADDR" once it accepts connections and stops on
// SIGINT or SIGTERM.
package main

import (
	"flag"
	"log"
	"net/http"

	"github.com/portico-gw/portico/internal/lifecycle"
)

// book is the answer.
const book = `{"name":"shelves/1/books/1","title":"The Left Hand of Darkness","author":"Ursula K. Le Guin","genre":"GENRE_FICTION","pages":304,"tags":["classic","hainish"]}`

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "listen address (host:port)")
	flag.Parse()
	err := lifecycle.ListenAndServe(*listen, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(book))
	}))
	if err != nil {
		log.Fatalf("static: %v", err)
	}
}
