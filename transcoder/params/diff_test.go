package params_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/grpc-ecosystem/grpc-gateway/v2/utilities"
	bookstorev1 "github.com/portico-gw/portico/gen/example/bookstore/v1"
	"github.com/portico-gw/portico/transcoder/params"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// gatewayQuery binds query onto msg as grpc-gateway's generated handlers do:
// (*http.Request).ParseForm, then the default query parser with a filter of
// the bound paths. A panic is returned as an error.
func gatewayQuery(msg proto.Message, query string, bound []string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	values, err := url.ParseQuery(query)
	if err != nil {
		return err
	}
	seqs := make([][]string, len(bound))
	for i, b := range bound {
		seqs[i] = strings.Split(b, ".")
	}
	return (&runtime.DefaultQueryParser{}).Parse(msg, values, utilities.NewDoubleArray(seqs))
}

// TestQueryMatchesGateway runs every query case through grpc-gateway's
// runtime.DefaultQueryParser too and checks both give the same message, or
// both an error — except for the deliberate differences listed here, where
// it checks that grpc-gateway does differ, so that the list stays true.
func TestQueryMatchesGateway(t *testing.T) {
	// Deliberate differences, by case name.
	differences := map[string]string{
		// Open (proto3) enums take numbers that name no value, as protojson
		// does in a body; grpc-gateway refuses them.
		"bookstore/enum undefined number in open enum": "undefined open enum number",
		// Strings must be valid UTF-8 (the backend would refuse the message);
		// grpc-gateway binds the bytes and lets marshalling fail later.
		"bookstore/string bad utf8":          "utf-8",
		"bookstore/repeated string bad utf8": "utf-8",
		"bookstore/wrapper bad utf8":         "utf-8",
		"bookstore/field mask bad utf8":      "utf-8",
		"kinds/map key bad utf8":             "utf-8",
		// A key naming no field leaves the message untouched; grpc-gateway
		// first creates the messages on the way to the unknown field.
		"bookstore/unknown nested key": "no side effect",
		// Parameters apply in query order; grpc-gateway iterates a map, so
		// which of the two wins is random there.
		"bookstore/duration then subfield": "order",
		// Portico bounds a query to 64 KiB and 1000 parameters; grpc-gateway
		// only has net/url's 10000-parameter limit.
		"bookstore/too many parameters": "bounds",
		"bookstore/too long":            "bounds",
		// A repeated field may be given under both its names; grpc-gateway
		// calls that a duplicate.
		"kinds/repeated json name mixed": "names mixed",
		// Enums are looked up in their descriptor, not protoregistry.GlobalTypes,
		// where an enum known only from a descriptor set is not registered.
		"kinds/enum not in any registry": "registry",
		"kinds/repeated enum":            "registry",
		"kinds/map enum value":           "registry",
		// ListValue has a text form (JSON), as Struct and Value do.
		"kinds/list value": "list value",
	}
	type suite struct {
		name   string
		cases  []queryCase
		newMsg func() protoreflect.Message
	}
	suites := []suite{
		{"bookstore", bookstoreQueryCases, func() protoreflect.Message { return (&bookstorev1.ListBooksRequest{}).ProtoReflect() }},
		{"kinds", kindsQueryCases, func() protoreflect.Message { return kindsMessage(t) }},
	}
	for _, s := range suites {
		for _, tc := range s.cases {
			t.Run(s.name+"/"+tc.name, func(t *testing.T) {
				ours, gw := s.newMsg(), s.newMsg()
				ourErr := params.Query(ours, tc.query, skipFor(t, ours.Descriptor(), tc.bound))
				gwErr := gatewayQuery(gw.Interface(), tc.query, tc.bound)
				same := (ourErr == nil) == (gwErr == nil) && (ourErr != nil || proto.Equal(ours.Interface(), gw.Interface()))
				if why, ok := differences[s.name+"/"+tc.name]; ok {
					if same && why != "order" {
						t.Errorf("listed as a difference (%s), but grpc-gateway gives the same result", why)
					}
					return
				}
				if !same {
					t.Errorf("query %.80q:\n got %s, error %v\nwant %s, error %v (grpc-gateway)",
						tc.query, jsonOf(ours), ourErr, jsonOf(gw), gwErr)
				}
			})
		}
	}
}

// TestSetMatchesGateway applies every Set case to the generated message
// through grpc-gateway's runtime.PopulateFieldFromPath too, and checks both
// agree, except where listed.
func TestSetMatchesGateway(t *testing.T) {
	differences := map[string]string{
		"bad utf8": "utf-8", // as for Query
	}
	for _, tc := range bookstoreSetCases {
		t.Run(tc.name, func(t *testing.T) {
			newMsg := func() protoreflect.Message { return (&bookstorev1.ListBooksRequest{}).ProtoReflect() }
			ours, ourErr := runSetCase(t, newMsg, tc)
			gw := &bookstorev1.ListBooksRequest{}
			var gwErr error
			for _, c := range tc.calls {
				if gwErr = runtime.PopulateFieldFromPath(gw, c.path, c.value); gwErr != nil {
					break
				}
			}
			same := (ourErr == nil) == (gwErr == nil) && (ourErr != nil || proto.Equal(ours.Interface(), gw))
			if why, ok := differences[tc.name]; ok {
				if same {
					t.Errorf("listed as a difference (%s), but grpc-gateway gives the same result", why)
				}
				return
			}
			if !same {
				t.Errorf("got %s, error %v\nwant %v, error %v (grpc-gateway)", jsonOf(ours), ourErr, gw, gwErr)
			}
		})
	}
}
