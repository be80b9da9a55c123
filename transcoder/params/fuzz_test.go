package params_test

import (
	"testing"

	"github.com/portico-gw/portico/transcoder/params"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// FuzzQuery checks that Query never panics, that it fails only with
// InvalidArgument, that what it binds always marshals (so no invalid UTF-8
// slips through), and that a dynamicpb ListBooksRequest over loaded
// descriptors and the generated one end up the same. It also feeds the
// query to the Kinds and proto2 Legacy test messages. The seed corpus is in
// testdata/fuzz/FuzzQuery.
func FuzzQuery(f *testing.F) {
	variants := bookstoreVariants(f)
	generated, loaded := variants[0], variants[2]
	skipGenerated := skipFor(f, generated.new().Descriptor(), []string{"parent"})
	skipLoaded := skipFor(f, loaded.new().Descriptor(), []string{"parent"})
	kinds, legacy := kindsMessage(f).Descriptor(), legacyMessage(f).Descriptor()
	others := []protoreflect.MessageDescriptor{kinds, legacy}
	f.Fuzz(func(t *testing.T, query string) {
		dyn, gen := loaded.new(), generated.new()
		err := params.Query(dyn, query, skipLoaded)
		genErr := params.Query(gen, query, skipGenerated)
		if (err == nil) != (genErr == nil) || (err != nil && err.Error() != genErr.Error()) {
			t.Fatalf("dynamicpb: error %v; generated: error %v", err, genErr)
		}
		checkFuzzResult(t, dyn, err)
		if err == nil && !proto.Equal(asGenerated(t, dyn), gen.Interface()) {
			t.Fatalf("dynamicpb: %s; generated: %s", jsonOf(dyn), jsonOf(gen))
		}
		for _, md := range others {
			m := dynamicpb.NewMessage(md)
			checkFuzzResult(t, m, params.Query(m, query, nil))
		}
	})
}

// checkFuzzResult checks err is nil or InvalidArgument, and that without an
// error m marshals.
func checkFuzzResult(t *testing.T, m protoreflect.Message, err error) {
	t.Helper()
	if err != nil {
		if status.Code(err) != codes.InvalidArgument {
			t.Fatalf("got error %v, want InvalidArgument", err)
		}
		return
	}
	if _, err := proto.Marshal(m.Interface()); err != nil {
		t.Fatalf("bound %s does not marshal: %v", m.Descriptor().FullName(), err)
	}
}
