package server_test

// The browser test's page: testdata/browser/client.js bundled at test time
// with esbuild from the npm packages testdata/browser/package.json names
// (installed into testdata/browser/node_modules, git-ignored, once per
// test process), served with the descriptors it reads from another origin
// than the gateway's.

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

const browserDir = "testdata/browser"

// npmInstall installs the page's npm packages once per test process.
var npmInstall struct {
	once sync.Once
	took time.Duration
	err  error
	out  []byte
}

// browserBundle returns client.js bundled for the browser. Without npm
// the test is skipped, except under CI (CI set), where .ci/run installs
// it.
func browserBundle(t *testing.T) []byte {
	t.Helper()
	npm, err := exec.LookPath("npm")
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("npm is not installed (apt-get install npm); under CI this test runs")
		}
		t.Fatal("CI is set and npm is not installed: .ci/run installs it")
	}
	npmInstall.once.Do(func() {
		// The lock file pins every package; --no-save leaves it and
		// package.json as they are. A second run finds everything in
		// place and takes about a second.
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		start := time.Now()
		cmd := exec.CommandContext(ctx, npm, "install", "--no-audit", "--no-fund", "--no-save", "--prefer-offline")
		cmd.Dir = browserDir
		npmInstall.out, npmInstall.err = cmd.CombinedOutput()
		npmInstall.took = time.Since(start)
	})
	if npmInstall.err != nil {
		t.Fatalf("npm install in %s: %v\n%s", browserDir, npmInstall.err, npmInstall.out)
	}
	t.Logf("npm install: %v", npmInstall.took.Round(time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join("node_modules", ".bin", "esbuild"), "client.js",
		"--bundle", "--format=esm", "--target=chrome120", "--log-level=warning")
	cmd.Dir = browserDir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	js, err := cmd.Output()
	if err != nil {
		t.Fatalf("esbuild: %v\n%s", err, stderr.Bytes())
	}
	return js
}

// descriptorSet is the FileDescriptorSet of the file that declares
// service, with every file it imports, imports first.
func descriptorSet(t *testing.T, service protoreflect.FullName) []byte {
	t.Helper()
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(service)
	if err != nil {
		t.Fatal(err)
	}
	set := &descriptorpb.FileDescriptorSet{}
	seen := map[string]bool{}
	var add func(f protoreflect.FileDescriptor)
	add = func(f protoreflect.FileDescriptor) {
		if seen[f.Path()] {
			return
		}
		seen[f.Path()] = true
		for i := range f.Imports().Len() {
			add(f.Imports().Get(i).FileDescriptor)
		}
		set.File = append(set.File, protodesc.ToFileDescriptorProto(f))
	}
	add(d.ParentFile())
	b, err := proto.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// startPageServer serves the page (/), its script (/client.js) and the
// descriptors (/descriptors.binpb) on an origin of its own.
func startPageServer(t *testing.T, js, descriptors []byte) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><html><head><meta charset="utf-8"><title>portico browser test</title>` +
			`<link rel="icon" href="data:,"><script type="module" src="/client.js"></script></head><body></body></html>`))
	})
	mux.HandleFunc("GET /client.js", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		_, _ = w.Write(js)
	})
	mux.HandleFunc("GET /descriptors.binpb", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(descriptors)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}
