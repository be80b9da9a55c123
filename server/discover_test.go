package server_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/config"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/server/servertest"
	"github.com/portico-gw/portico/snapshot"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// discoverConfig exposes the hostile API through a grpc integration with
// `discover: true` and no descriptors.
func discoverConfig(c *configv1.Config) {
	c.Descriptors = nil
	c.Apis[0].Services = []string{servertest.HostileService}
	c.Integrations[0].GetGrpc().Discover = true
}

// TestDiscoverFromReflection (issue 6, point 4): an integration with
// `discover: true` gets the exposed services' descriptors, with their
// imports, from the backend's server reflection when the snapshot is
// built, and its google.api.http annotations are served on both doors.
func TestDiscoverFromReflection(t *testing.T) {
	files := servertest.HostileFiles(t)
	mirror := servertest.StartMirrorWithReflection(t, files, protoregistry.GlobalTypes, files)
	env := servertest.StartGateway(t, mirror.Addr, servertest.Options{Config: discoverConfig})
	resp, out := post(t, env.URL+"/v1/things", `{"name":"found","labels":{"a":"b"}}`)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(out), `"labels":{"a":"b"}`) {
		t.Errorf("REST over discovered descriptors: got %d %s", resp.StatusCode, out)
	}
	resps, err := rawCall(t, env.Conn, nil, hostile+"Put", unaryDesc, []byte{0x0a, 0x01, 'x'})
	if err != nil || len(resps) != 1 {
		t.Errorf("gRPC over discovered descriptors: %d responses, %v", len(resps), err)
	}
	// Validation rules come along with the descriptors.
	if resp, out := post(t, env.URL+"/v1/things", `{"name":"`+strings.Repeat("n", 100)+`"}`); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a discovered validation rule: got %d %s, want 400", resp.StatusCode, out)
	}
}

// buildWith builds a snapshot for the hostile API in front of target,
// edited by edit; it returns the build error.
func buildWith(t *testing.T, target string, edit func(*configv1.Config)) error {
	t.Helper()
	cfg := servertest.BookstoreConfig(target)
	edit(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	snap, err := snapshot.Build(&config.File{Config: cfg, Dir: "."}, snapshot.Options{Context: ctx})
	if err == nil {
		_ = snap.Close()
	}
	return err
}

// TestDiscoverErrors: a backend without reflection, a backend that is
// down, and a discovered file that differs from the one loaded from
// descriptors are config errors naming the integration.
func TestDiscoverErrors(t *testing.T) {
	files := servertest.HostileFiles(t)
	plain := servertest.StartMirror(t, files)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := lis.Addr().String()
	lis.Close()
	// A backend whose reflection serves hostile.proto with one field more.
	changed := changedFiles(t, files)
	drifted := servertest.StartMirrorWithReflection(t, changed, protoregistry.GlobalTypes, changed)

	cases := []struct {
		name, target string
		edit         func(*configv1.Config)
		want         string
	}{
		{"no reflection", plain.Addr, discoverConfig, "does not serve gRPC server reflection"},
		{"backend down", down, discoverConfig, "cannot reach the backend"},
		{"differs from descriptors", drifted.Addr, func(c *configv1.Config) {
			discoverConfig(c)
			c.Descriptors = []string{servertest.HostileDir()}
		}, "differs from the one loaded from descriptors"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := buildWith(t, tc.target, tc.edit)
			var es config.Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("got %v, want config errors", err)
			}
			if es[0].Field != "integrations[0].grpc.discover" || !strings.Contains(es[0].Message, tc.want) || !strings.Contains(es[0].Message, `"bookstore"`) && tc.name != "differs from descriptors" {
				t.Errorf("got %s, want it at integrations[0].grpc.discover naming the integration and %q", es[0], tc.want)
			}
		})
	}
	// The same file from both sources, identical: fine.
	same := servertest.StartMirrorWithReflection(t, files, protoregistry.GlobalTypes, files)
	if err := buildWith(t, same.Addr, func(c *configv1.Config) {
		discoverConfig(c)
		c.Descriptors = []string{servertest.HostileDir()}
	}); err != nil {
		t.Errorf("identical files from both sources: %v", err)
	}
}

// changedFiles is files with a field added to hostile.v1.Thing.
func changedFiles(t *testing.T, files *protoregistry.Files) *protoregistry.Files {
	t.Helper()
	out := &protoregistry.Files{}
	var hostileFile *descriptorpb.FileDescriptorProto
	files.RangeFiles(func(fd protoreflectFileDescriptor) bool {
		if fd.Path() == "hostile.proto" {
			hostileFile = protodesc.ToFileDescriptorProto(fd)
			return true
		}
		if err := out.RegisterFile(fd); err != nil {
			t.Fatal(err)
		}
		return true
	})
	for _, m := range hostileFile.GetMessageType() {
		if m.GetName() == "Thing" {
			m.Field = append(m.Field, &descriptorpb.FieldDescriptorProto{
				Name: proto.String("added"), JsonName: proto.String("added"), Number: proto.Int32(99),
				Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum(), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(),
			})
		}
	}
	fd, err := protodesc.NewFile(hostileFile, out)
	if err != nil {
		t.Fatal(err)
	}
	if err := out.RegisterFile(fd); err != nil {
		t.Fatal(err)
	}
	return out
}
