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
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// book is the answer.
const book = `{"name":"shelves/1/books/1","title":"The Left Hand of Darkness","author":"Ursula K. Le Guin","genre":"GENRE_FICTION","pages":304,"tags":["classic","hainish"]}`

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "listen address (host:port)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatalf("static: %v", err)
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(book))
	})}
	fmt.Printf("listening on %s\n", lis.Addr())
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	if err := srv.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatalf("static: %v", err)
	}
}
