package snapshot

import (
	"slices"

	"github.com/portico-gw/portico/catalog"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	_ "google.golang.org/genproto/googleapis/rpc/errdetails"      // the error details the gateway sends
	_ "google.golang.org/grpc/health/grpc_health_v1"              // the door's own services' files
	_ "google.golang.org/grpc/reflection/grpc_reflection_v1"      //
	_ "google.golang.org/grpc/reflection/grpc_reflection_v1alpha" //
)

// ownServiceFiles are the files of the services the gRPC door registers
// itself (health, reflection), and of the google.rpc error details the
// gateway puts in the statuses it sends (BadRequest from validation,
// QuotaFailure and RetryInfo from rate limits): reflection describes them
// too, so a client such as grpcurl can decode those details. They are
// always the compiled-in versions, the ones the gateway encodes with.
var ownServiceFiles = []string{
	"grpc/health/v1/health.proto",
	"grpc/reflection/v1/reflection.proto",
	"grpc/reflection/v1alpha/reflection.proto",
	"google/rpc/error_details.proto",
}

// reflectionFiles is what server reflection may describe: the files of
// the exposed services and everything they import, and the door's own
// services — never a service that is loaded but not exposed (its schema
// and HTTP rules would leak), nor Portico's own config schema.
type reflectionFiles struct {
	files   catalog.Resolver
	allowed map[string]bool
}

func newReflectionFiles(cat *catalog.Catalog) *reflectionFiles {
	r := &reflectionFiles{files: cat.Files(), allowed: map[string]bool{}}
	var add func(fd protoreflect.FileDescriptor)
	add = func(fd protoreflect.FileDescriptor) {
		if r.allowed[fd.Path()] {
			return
		}
		r.allowed[fd.Path()] = true
		imps := fd.Imports()
		for i := 0; i < imps.Len(); i++ {
			add(imps.Get(i).FileDescriptor)
		}
	}
	for _, sd := range cat.Services() {
		add(sd.ParentFile())
	}
	for _, p := range ownServiceFiles {
		if fd, err := protoregistry.GlobalFiles.FindFileByPath(p); err == nil {
			add(fd)
		}
	}
	return r
}

func (r *reflectionFiles) registryFor(path string) catalog.Resolver {
	if slices.Contains(ownServiceFiles, path) {
		return protoregistry.GlobalFiles
	}
	return r.files
}

// FindFileByPath finds an allowed file.
func (r *reflectionFiles) FindFileByPath(path string) (protoreflect.FileDescriptor, error) {
	if !r.allowed[path] {
		return nil, protoregistry.NotFound
	}
	if fd, err := r.registryFor(path).FindFileByPath(path); err == nil {
		return fd, nil
	}
	return protoregistry.GlobalFiles.FindFileByPath(path)
}

// FindDescriptorByName finds a descriptor declared in an allowed file
// (from the compiled-in registry for ownServiceFiles, as FindFileByPath).
func (r *reflectionFiles) FindDescriptorByName(name protoreflect.FullName) (protoreflect.Descriptor, error) {
	for _, reg := range []catalog.Resolver{r.files, protoregistry.GlobalFiles} {
		d, err := reg.FindDescriptorByName(name)
		if err != nil || !r.allowed[d.ParentFile().Path()] {
			continue
		}
		if slices.Contains(ownServiceFiles, d.ParentFile().Path()) {
			return protoregistry.GlobalFiles.FindDescriptorByName(name)
		}
		return d, nil
	}
	return nil, protoregistry.NotFound
}
