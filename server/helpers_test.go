package server_test

import (
	"io"
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
