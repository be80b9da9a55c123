package bookstore

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
)

// seed fills an empty store with the sample data NewServer documents:
//
//	shelves/1 "Fiction"
//	  shelves/1/books/1 The Left Hand of Darkness, Ursula K. Le Guin, FICTION,
//	                    1969-03-01, tags [classic scifi], 304 pages, review 5★
//	  shelves/1/books/2 Dune, Frank Herbert, FICTION,
//	                    1965-08-01, tags [scifi desert], 412 pages, review 4★
//	shelves/2 "Science"
//	  shelves/2/books/1 A Brief History of Time, Stephen Hawking, SCIENCE,
//	                    1988-04-01, tags [cosmology], 212 pages, no review
func (s *Server) seed() {
	fiction := s.addShelf(&bookstorev1.Shelf{Theme: "Fiction"})
	s.addBook(fiction, &bookstorev1.Book{
		Title:       "The Left Hand of Darkness",
		Author:      "Ursula K. Le Guin",
		Genre:       bookstorev1.Genre_GENRE_FICTION,
		PublishTime: date(1969, time.March, 1),
		Tags:        []string{"classic", "scifi"},
		PageCount:   wrapperspb.Int32(304),
		TopReview:   &bookstorev1.Review{Reviewer: "Genly Ai", Stars: 5},
	})
	s.addBook(fiction, &bookstorev1.Book{
		Title:       "Dune",
		Author:      "Frank Herbert",
		Genre:       bookstorev1.Genre_GENRE_FICTION,
		PublishTime: date(1965, time.August, 1),
		Tags:        []string{"scifi", "desert"},
		PageCount:   wrapperspb.Int32(412),
		TopReview:   &bookstorev1.Review{Reviewer: "Paul", Stars: 4},
	})
	science := s.addShelf(&bookstorev1.Shelf{Theme: "Science"})
	s.addBook(science, &bookstorev1.Book{
		Title:       "A Brief History of Time",
		Author:      "Stephen Hawking",
		Genre:       bookstorev1.Genre_GENRE_SCIENCE,
		PublishTime: date(1988, time.April, 1),
		Tags:        []string{"cosmology"},
		PageCount:   wrapperspb.Int32(212),
	})
}

func date(year int, month time.Month, day int) *timestamppb.Timestamp {
	return timestamppb.New(time.Date(year, month, day, 0, 0, 0, 0, time.UTC))
}
