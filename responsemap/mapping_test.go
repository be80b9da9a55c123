package responsemap_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/portico-gw/portico/config"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/responsemap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
)

func TestCompileErrors(t *testing.T) {
	rm := &configv1.ResponseMapping{
		Status: map[string]uint32{
			"NOPE":        404,
			"NotFound":    410,
			"unavailable": 503,
			"OK":          200,
			"ABORTED":     99,
			"INTERNAL":    600,
			"CANCELLED":   100,
		},
		ForwardMetadata: []string{"x-ok", "x bad", "grpc-status", "*", ""},
	}
	_, err := responsemap.Compile("apis[2].response", rm)
	var errs config.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("got %v, want config.Errors", err)
	}
	got := map[string]string{}
	for _, e := range errs {
		got[e.Field] = e.Message
	}
	want := map[string]string{
		`apis[2].response.status["NOPE"]`:        "unknown gRPC code",
		`apis[2].response.status["NotFound"]`:    "did you mean NOT_FOUND?",
		`apis[2].response.status["unavailable"]`: "did you mean UNAVAILABLE?",
		`apis[2].response.status["OK"]`:          "OK is not an error code",
		`apis[2].response.status["ABORTED"]`:     "99 is not an HTTP status",
		`apis[2].response.status["INTERNAL"]`:    "600 is not an HTTP status",
		`apis[2].response.status["CANCELLED"]`:   "100 is not an HTTP status",
		`apis[2].response.forward_metadata[1]`:   "is not a metadata name",
		`apis[2].response.forward_metadata[2]`:   "reserved by gRPC",
		`apis[2].response.forward_metadata[3]`:   "leave forward_metadata unset",
		`apis[2].response.forward_metadata[4]`:   "is not a metadata name",
	}
	for field, frag := range want {
		if msg, ok := got[field]; !ok {
			t.Errorf("%s: got no error, want one saying %q", field, frag)
		} else if !strings.Contains(msg, frag) {
			t.Errorf("%s: got %q, want it to say %q", field, msg, frag)
		}
	}
	if len(errs) != len(want) {
		t.Errorf("got %d errors, want %d: %v", len(errs), len(want), err)
	}
}

func TestCompileDefaults(t *testing.T) {
	for _, rm := range []*configv1.ResponseMapping{nil, {}, {Errors: "grpc_gateway"}} {
		m, err := responsemap.Compile("apis[0].response", rm)
		if err != nil || m != nil {
			t.Errorf("Compile(%v): got %v, %v; want nil, nil (nothing to do)", rm, m, err)
		}
	}
	var m *responsemap.Mapping // nil: the defaults, safe to use
	if _, ok := m.HTTPStatus(codes.NotFound); ok || m.ProblemJSON() || m.REST() || m.FiltersMetadata() || m.HidesInternalErrors() {
		t.Error("a nil Mapping changes something; want the defaults")
	}
	md := metadata.Pairs("a", "1")
	if got := m.Filter(md); !reflect.DeepEqual(got, md) {
		t.Errorf("nil Mapping Filter: got %v, want %v", got, md)
	}
}

func TestCompileChoices(t *testing.T) {
	m, err := responsemap.Compile("apis[0].response", &configv1.ResponseMapping{
		Status: map[string]uint32{"NOT_FOUND": 410, "UNAVAILABLE": 502},
		Errors: "problem_json",
	})
	if err != nil {
		t.Fatal(err)
	}
	for c, want := range map[codes.Code]int{codes.NotFound: 410, codes.Unavailable: 502} {
		if got, ok := m.HTTPStatus(c); !ok || got != want {
			t.Errorf("HTTPStatus(%v): got %d %v, want %d", c, got, ok, want)
		}
	}
	if got, ok := m.HTTPStatus(codes.Internal); ok {
		t.Errorf("HTTPStatus(Internal): got %d, want no override", got)
	}
	if got, ok := m.HTTPStatus(codes.Code(42)); ok {
		t.Errorf("HTTPStatus(42): got %d, want no override", got)
	}
	if !m.ProblemJSON() || !m.REST() {
		t.Errorf("ProblemJSON %v, REST %v: want both", m.ProblemJSON(), m.REST())
	}
	if m.FiltersMetadata() || m.HidesInternalErrors() {
		t.Error("got metadata filtering or hidden errors, want neither")
	}
	only, err := responsemap.Compile("apis[0].response", &configv1.ResponseMapping{Status: map[string]uint32{"NOT_FOUND": 204}})
	if err != nil {
		t.Fatal(err)
	}
	if !only.REST() || only.ProblemJSON() {
		t.Errorf("status only: REST %v ProblemJSON %v, want REST and not problem+json", only.REST(), only.ProblemJSON())
	}
}

func TestFilter(t *testing.T) {
	m, err := responsemap.Compile("apis[0].response", &configv1.ResponseMapping{
		ForwardMetadata: []string{"X-Request-Id", "x-ratelimit-*"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !m.FiltersMetadata() || m.REST() {
		t.Errorf("FiltersMetadata %v REST %v: want filtering only", m.FiltersMetadata(), m.REST())
	}
	md := metadata.MD{
		"x-request-id":          {"r1"},
		"x-ratelimit-remaining": {"9"},
		"x-ratelimit":           {"no: the prefix is x-ratelimit-"},
		"x-internal-host":       {"db-7"},
	}
	want := metadata.MD{"x-request-id": {"r1"}, "x-ratelimit-remaining": {"9"}}
	if got := m.Filter(md); !reflect.DeepEqual(got, want) {
		t.Errorf("Filter: got %v, want %v", got, want)
	}
	if len(md) != 4 {
		t.Errorf("Filter changed its argument: %v", md)
	}
	all := metadata.MD{"x-request-id": {"r1"}}
	if got := m.Filter(all); !reflect.DeepEqual(got, all) {
		t.Errorf("Filter of allowed names: got %v, want %v", got, all)
	}
	if got := m.Filter(metadata.MD{"x-internal-host": {"db-7"}}); got != nil {
		t.Errorf("Filter of names not allowed: got %v, want nil", got)
	}
}

func TestCodeName(t *testing.T) {
	for c, want := range map[codes.Code]string{
		codes.NotFound: "NOT_FOUND", codes.Canceled: "CANCELLED", codes.Unauthenticated: "UNAUTHENTICATED",
		codes.Code(99): "CODE_99",
	} {
		if got := responsemap.CodeName(c); got != want {
			t.Errorf("CodeName(%d): got %q, want %q", c, got, want)
		}
	}
}
