package catalog

import "testing"

func TestMethodSelector(t *testing.T) {
	const want = "example.bookstore.v1.BookstoreService.GetBook"
	for _, sel := range []string{
		"example.bookstore.v1.BookstoreService.GetBook",
		"/example.bookstore.v1.BookstoreService/GetBook",
		"example.bookstore.v1.BookstoreService/GetBook", // grpcurl's
	} {
		got, err := MethodSelector(sel)
		if err != nil || got != want {
			t.Errorf("MethodSelector(%q): got %q, %v; want %q", sel, got, err, want)
		}
	}
	for _, sel := range []string{
		"", "GetBook", "/GetBook", "/example.bookstore.v1.BookstoreService.GetBook", "example/bookstore/v1/BookstoreService/GetBook",
		"example.bookstore.v1.BookstoreService/Get/Book", "example.bookstore.v1.*", ".example.bookstore.v1.BookstoreService.GetBook", "a..b",
	} {
		if got, err := MethodSelector(sel); err == nil {
			t.Errorf("MethodSelector(%q): got %q, want an error", sel, got)
		}
	}
}

func TestAPIMethod(t *testing.T) {
	c, err := New(Options{APIs: []API{bookstoreAPI(&fakeBackend{})}})
	if err != nil {
		t.Fatal(err)
	}
	services := []string{bookstoreService}
	for _, sel := range []string{bookstoreService + ".GetBook", "/" + bookstoreService + "/GetBook"} {
		m, err := c.APIMethod(services, sel)
		if err != nil || m.fullMethod != "/"+bookstoreService+"/GetBook" {
			t.Errorf("APIMethod(%q): got %v, %v; want GetBook", sel, m, err)
		}
	}
	_, err = c.APIMethod(services, bookstoreService+".GetBok")
	if err == nil || err.Error() != `"example.bookstore.v1.BookstoreService.GetBok" names no exposed method of this API (services example.bookstore.v1.BookstoreService) (did you mean "example.bookstore.v1.BookstoreService.GetBook"?)` {
		t.Errorf("a misspelt method: got %v", err)
	}
	if _, err := c.APIMethod([]string{"example.other.v1.Other"}, bookstoreService+".GetBook"); err == nil {
		t.Error("a method of another API's service: got no error")
	}
}
