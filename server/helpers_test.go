package server_test

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"testing"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
	"google.golang.org/protobuf/reflect/protoreflect"
)

type (
	configv1Config = configv1.Config
	configv1Rest   = configv1.Rest

	protoreflectFileDescriptor = protoreflect.FileDescriptor
)

func restGet(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := servertest.Client().Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// lockedBuffer is a log destination safe for concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Count is how many times sub was written.
func (l *lockedBuffer) Count(sub string) int { return strings.Count(l.String(), sub) }
