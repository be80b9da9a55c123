package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

const minimalConfig = `
descriptors: [apis/bookstore.binpb]
integrations:
  - name: bookstore
    grpc: {target: "127.0.0.1:50051"}
apis:
  - services: [example.bookstore.v1.BookstoreService]
    integration: bookstore
`

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "portico.yaml")
	if err := os.WriteFile(path, []byte(minimalConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Load(path)
	if err != nil {
		t.Fatalf("Load(%q): %v", path, err)
	}
	if f.Path != path {
		t.Errorf("Path = %q, want %q", f.Path, path)
	}
	if f.Dir != dir {
		t.Errorf("Dir = %q, want %q", f.Dir, dir)
	}
	if got, want := f.Resolve(f.Config.GetDescriptors()[0]), filepath.Join(dir, "apis", "bookstore.binpb"); got != want {
		t.Errorf("Resolve(descriptors[0]) = %q, want %q", got, want)
	}
	if got, want := f.Config.GetListen().GetHttp(), DefaultHTTPAddress; got != want {
		t.Errorf("listen.http = %q, want the default %q", got, want)
	}
}

func TestLoadRelativePath(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "portico.yaml"), []byte(minimalConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	f, err := Load("portico.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// t.TempDir may be reached through a symlink; compare what Getwd says.
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if f.Dir != wd || f.Path != filepath.Join(wd, "portico.yaml") {
		t.Errorf("Load(relative): Dir = %q, Path = %q, want both absolute under %q", f.Dir, f.Path, wd)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing file) error = %v, want fs.ErrNotExist", err)
	}
}

func TestResolve(t *testing.T) {
	f := &File{Dir: "/etc/portico"}
	for _, tc := range []struct{ in, want string }{
		{"apis/a.binpb", "/etc/portico/apis/a.binpb"},
		{"../shared/a.binpb", "/etc/shared/a.binpb"},
		{"/var/lib/a.binpb", "/var/lib/a.binpb"},
		{"/var/lib/../a.binpb", "/var/a.binpb"},
	} {
		if got := f.Resolve(tc.in); got != filepath.FromSlash(tc.want) {
			t.Errorf("Resolve(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseRelativeDir(t *testing.T) {
	f, err := Parse([]byte(minimalConfig), "")
	if err != nil {
		t.Fatal(err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if f.Dir != wd {
		t.Errorf(`Parse(data, "").Dir = %q, want the working directory %q`, f.Dir, wd)
	}
	if f.Path != "" {
		t.Errorf("Parse(...).Path = %q, want empty", f.Path)
	}
}

func TestErrors(t *testing.T) {
	_, err := Parse([]byte(`
integrations:
  - name: bookstore
  - name: bookstore
    grpc: {target: "127.0.0.1:1"}
`), "")
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Parse error = %T %v, want Errors", err, err)
	}
	want := "3:5: integrations[0]: one of grpc, http, mock must be set\n" +
		`4:11: integrations[1].name: duplicate integration "bookstore"`
	if got := err.Error(); got != want {
		t.Errorf("Error() =\n%s\nwant\n%s", got, want)
	}
	var one *Error
	if !errors.As(err, &one) || one.Field != "integrations[0]" {
		t.Errorf("errors.As(err, *Error) = %v, want the first problem", one)
	}
	if got, want := (&Error{Message: "config is empty"}).Error(), "config is empty"; got != want {
		t.Errorf("Error without field = %q, want %q", got, want)
	}
}

// TestParseConcurrent checks that the shared validator is safe to build and
// use from several goroutines (run with -race).
func TestParseConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := Parse([]byte(minimalConfig), "/etc/portico"); err != nil {
				t.Errorf("Parse: %v", err)
			}
		})
	}
	wg.Wait()
}
