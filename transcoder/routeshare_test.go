package transcoder

import (
	"reflect"
	"testing"

	"github.com/portico-gw/portico/bench/scalegen"
	"github.com/portico-gw/portico/catalog"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// idleBackend serves nothing: the catalog only stores it (a call would panic).
type idleBackend struct{ catalog.Backend }

// queryPaths are query parameter names a route's filter is asked about:
// every field of md and of its message fields, one level down, and a
// name that is no field.
func queryPaths(md protoreflect.MessageDescriptor) []string {
	out := []string{"nope"}
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		out = append(out, string(fd.Name()))
		if sub := fd.Message(); sub != nil {
			for j := range sub.Fields().Len() {
				out = append(out, string(fd.Name())+"."+string(sub.Fields().Get(j).Name()))
			}
		}
	}
	return out
}

// sameRoute holds a shared route against the one compileRoute makes of
// the same binding.
func sameRoute(t *testing.T, b *catalog.Binding, got, want *route) {
	t.Helper()
	if got.m != b.Method || got.b != b || got.pm != nil {
		t.Errorf("%s: got the route of another binding", b.Template.Raw)
	}
	if got.body != want.body || got.bodyIsHTTPBody != want.bodyIsHTTPBody || got.respIsHTTPBody != want.respIsHTTPBody || got.patchMask != want.patchMask ||
		!reflect.DeepEqual(got.vars, want.vars) || !reflect.DeepEqual(got.bodyPath, want.bodyPath) || !reflect.DeepEqual(got.respPath, want.respPath) {
		t.Errorf("%s: got %+v, want %+v", b.Template.Raw, got, want)
	}
	if (got.skip == nil) != (want.skip == nil) {
		t.Fatalf("%s: query filter: got %v, want %v", b.Template.Raw, got.skip != nil, want.skip != nil)
	}
	if got.skip == nil {
		return
	}
	for _, q := range queryPaths(b.Method.Input().Descriptor()) {
		if g, w := got.skip(q), want.skip(q); g != w {
			t.Errorf("%s: query %q skipped: got %v, want %v", b.Template.Raw, q, g, w)
		}
	}
}

func TestSharedRoutesMatchCompiled(t *testing.T) {
	scaleFiles, err := protodesc.NewFiles(scalegen.Set(2*scalegen.PerService + 3))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		opts   catalog.Options
		shapes int // distinct shapes the routes have (-1: not checked)
	}{
		{"bookstore", catalog.Options{APIs: []catalog.API{{Where: "apis[0]", Services: []string{"example.bookstore.v1.BookstoreService"}, Backend: idleBackend{}, DefaultBindings: true}}}, -1},
		{"generated", catalog.Options{Files: scaleFiles, APIs: []catalog.API{{Where: "apis[0]", Backend: idleBackend{},
			Services: []string{scalegen.ServiceName(0), scalegen.ServiceName(1), scalegen.ServiceName(2)}}}}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cat, err := catalog.New(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			var shared sharedRoutes
			routes := 0
			for _, m := range cat.MethodList() {
				for _, b := range m.Bindings() {
					want, werr := compileRoute(b)
					got, gerr := shared.compile(b)
					if (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
						t.Fatalf("%s: got error %v, want %v", b.Template.Raw, gerr, werr)
					}
					if werr != nil {
						continue
					}
					routes++
					sameRoute(t, b, got, want)
				}
			}
			if routes == 0 {
				t.Fatal("no route compiled: the test checks nothing")
			}
			if tc.shapes >= 0 && len(shared.byShape) != tc.shapes {
				t.Errorf("%d routes: got %d compiled shapes, want %d", routes, len(shared.byShape), tc.shapes)
			}
		})
	}
}
