package params_test

import (
	"testing"

	"github.com/portico-gw/portico/transcoder/params"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Cases for the kinds the bookstore lacks, on params.test.Kinds (proto3,
// descriptor-only, dynamicpb).
var kindsQueryCases = []queryCase{
	{name: "bytes std padded", query: "b=aGk%3D", want: `{"b":"aGk="}`},
	{name: "bytes std unpadded", query: "b=aGk", want: `{"b":"aGk="}`},
	{name: "bytes url-safe", query: "b=-_8", want: `{"b":"+/8="}`},
	{name: "bytes url-safe padded", query: "b=-_8%3D", want: `{"b":"+/8="}`},
	{name: "bytes std plus encoded", query: "b=%2B%2F8%3D", want: `{"b":"+/8="}`},
	{name: "bytes empty", query: "b=", want: `{}`},
	{name: "repeated bytes", query: "rb=AA&rb=AQ%3D%3D", want: `{"rb":["AA==","AQ=="]}`},
	{name: "uint64 max", query: "u64=18446744073709551615", want: `{"u64":"18446744073709551615"}`},
	{name: "uint32", query: "u32=4294967295", want: `{"u32":4294967295}`},
	{name: "int64 min", query: "i64=-9223372036854775808", want: `{"i64":"-9223372036854775808"}`},
	{name: "sint32", query: "s32=-3", want: `{"s32":-3}`},
	{name: "sint64", query: "s64=-4", want: `{"s64":"-4"}`},
	{name: "fixed32", query: "f32=5", want: `{"f32":5}`},
	{name: "fixed64", query: "f64=6", want: `{"f64":"6"}`},
	{name: "sfixed32", query: "sf32=-7", want: `{"sf32":-7}`},
	{name: "sfixed64", query: "sf64=-8", want: `{"sf64":"-8"}`},
	{name: "float", query: "fl=1.5", want: `{"fl":1.5}`},
	{name: "float NaN", query: "fl=NaN", want: `{"fl":"NaN"}`},
	{name: "custom json name", query: "renamed=3", want: `{"renamed":3}`},
	{name: "custom json name by proto name", query: "custom=3", want: `{"renamed":3}`},
	{name: "repeated json name mixed", query: "multi_word=a&multiWord=b", want: `{"multiWord":["a","b"]}`},
	{name: "repeated enum", query: "colors_list=RED&colorsList=0", want: `{"colorsList":["RED","COLOR_UNSPECIFIED"]}`},
	{name: "enum not in any registry", query: "color=RED", want: `{"color":"RED"}`},
	// Maps.
	{name: "map string to int", query: "labels[a]=1&labels[b]=2", want: `{"labels":{"a":1,"b":2}}`},
	{name: "map encoded brackets", query: "labels%5Ba%5D=1", want: `{"labels":{"a":1}}`},
	{name: "map empty key", query: "labels[]=1", want: `{"labels":{"":1}}`},
	{name: "map key with a bracket names no field", query: "labels[a[b]=1", want: `{}`}, // as grpc-gateway's greedy pattern
	{name: "map key with dots", query: "labels[a.b]=1", want: `{"labels":{"a.b":1}}`},
	{name: "map int64 key", query: "by_id[-5]=x", want: `{"byId":{"-5":"x"}}`},
	{name: "map bool key", query: "by_flag[true]=x", want: `{"byFlag":{"true":"x"}}`},
	{name: "map enum value", query: "colors[a]=RED&colors[b]=1", want: `{"colors":{"a":"RED","b":"RED"}}`},
	{name: "map timestamp value", query: "times[1]=2024-01-01T00:00:00Z", want: `{"times":{"1":"2024-01-01T00:00:00Z"}}`},
	{name: "map json name", query: "byId[1]=x", want: `{"byId":{"1":"x"}}`},
	// Oneofs.
	{name: "oneof string", query: "name=x", want: `{"name":"x"}`},
	{name: "oneof message member", query: "inner.s=a&inner.n=2", want: `{"inner":{"s":"a","n":2}}`},
	{name: "oneof wrapper member", query: "boxed=5", want: `{"boxed":5}`},
	{name: "proto3 optional zero is present", query: "opt=0", want: `{"opt":0}`},
	{name: "deep nesting", query: "inner_plain.next.next.n=1", want: `{"innerPlain":{"next":{"next":{"n":1}}}}`},
	{name: "deeper than the path buffer", query: "inner_plain.next.next.next.next.next.next.next.next.next.n=1",
		want: `{"innerPlain":{"next":{"next":{"next":{"next":{"next":{"next":{"next":{"next":{"next":{"n":1}}}}}}}}}}}`},
	// Wrappers.
	{name: "double wrapper", query: "w_double=2.5", want: `{"wDouble":2.5}`},
	{name: "float wrapper", query: "w_float=1.5", want: `{"wFloat":1.5}`},
	{name: "int64 wrapper", query: "w_i64=-1", want: `{"wI64":"-1"}`},
	{name: "uint64 wrapper", query: "w_u64=3", want: `{"wU64":"3"}`},
	{name: "int32 wrapper", query: "w_i32=-2", want: `{"wI32":-2}`},
	{name: "uint32 wrapper", query: "w_u32=4", want: `{"wU32":4}`},
	{name: "bool wrapper false is present", query: "w_bool=false", want: `{"wBool":false}`},
	{name: "string wrapper", query: "w_string=s", want: `{"wString":"s"}`},
	{name: "bytes wrapper", query: "w_bytes=aGk", want: `{"wBytes":"aGk="}`},
	// JSON-valued well-known types.
	{name: "struct", query: `st={"a":{"b":1}}`, want: `{"st":{"a":{"b":1}}}`},
	{name: "value number", query: "val=1.5", want: `{"val":1.5}`},
	{name: "value string", query: `val="x"`, want: `{"val":"x"}`},
	{name: "value null", query: "val=null", want: `{"val":null}`},
	{name: "value list", query: "val=[1,true]", want: `{"val":[1,true]}`},
	{name: "list value", query: `lv=[1,"a",{}]`, want: `{"lv":[1,"a",{}]}`},
	{name: "empty", query: "empty=", want: `{"empty":{}}`},
	{name: "empty braces", query: "empty={}", want: `{"empty":{}}`},
	{name: "repeated timestamp", query: "rts=2024-01-01T00:00:00Z&rts=1970-01-01T00:00:00Z", want: `{"rts":["2024-01-01T00:00:00Z","1970-01-01T00:00:00Z"]}`},

	// Errors.
	{name: "bytes bad", query: "b=!!", wantErr: []string{`field "b"`, `"!!"`, "base64"}},
	{name: "bytes mixed alphabets", query: "b=%2B-", wantErr: []string{`field "b"`, "base64"}},
	{name: "bytes plus decodes to space", query: "b=%2B%2F8+", wantErr: []string{`field "b"`}},
	{name: "uint64 negative", query: "u64=-1", wantErr: []string{`field "u64"`, `"-1"`, "uint64"}},
	{name: "uint64 range", query: "u64=18446744073709551616", wantErr: []string{"out of range"}},
	{name: "uint32 range", query: "u32=4294967296", wantErr: []string{`field "u32"`, "out of range"}},
	{name: "int64 range", query: "i64=9223372036854775808", wantErr: []string{`field "i64"`, "out of range"}},
	{name: "sint32 bad", query: "s32=x", wantErr: []string{`field "s32"`, "sint32"}},
	{name: "fixed64 bad", query: "f64=x", wantErr: []string{`field "f64"`, "fixed64"}},
	{name: "sfixed32 range", query: "sf32=3000000000", wantErr: []string{`field "sf32"`}},
	{name: "float range", query: "fl=1e39", wantErr: []string{`field "fl"`, "out of range"}},
	{name: "float bad", query: "fl=one", wantErr: []string{`field "fl"`, `"one"`, "float"}},
	{name: "enum unknown", query: "color=BLUE", wantErr: []string{`field "color"`, `"BLUE"`, "params.test.Color"}},
	{name: "map key bad", query: "by_id[x]=1", wantErr: []string{`map field "by_id"`, `"x"`}},
	{name: "map key bad utf8", query: "labels[%ff]=1", wantErr: []string{`map field "labels"`, "UTF-8"}},
	{name: "map bool key bad", query: "by_flag[yes]=1", wantErr: []string{`map field "by_flag"`, `"yes"`}},
	{name: "map value bad", query: "labels[a]=x", wantErr: []string{`"labels[a]"`, `"x"`}},
	{name: "map value enum bad", query: "colors[a]=BLUE", wantErr: []string{`"colors[a]"`, `"BLUE"`}},
	{name: "map value message", query: "inner_map[a]=x", wantErr: []string{`"inner_map[a]"`, "params.test.Inner"}},
	{name: "map entry twice", query: "labels[a]=1&labels[a]=2", wantErr: []string{`"labels[a]"`, "more than once"}},
	{name: "map without key", query: "labels=1", wantErr: []string{`map field "labels"`, "labels[key]=value"}},
	{name: "map path through", query: "labels.a=1", wantErr: []string{`field "labels"`}},
	{name: "oneof conflict", query: "name=x&number=1", wantErr: []string{`"number"`, `"name"`, `"choice"`}},
	{name: "oneof conflict with message member", query: "inner.s=a&name=x", wantErr: []string{`"name"`, `"inner"`}},
	{name: "oneof conflict through message member", query: "name=x&inner.s=a", wantErr: []string{`"inner"`, `"name"`}},
	{name: "oneof same member twice", query: "name=x&name=y", wantErr: []string{`field "name"`, "more than once"}},
	{name: "proto3 optional twice", query: "opt=1&opt=2", wantErr: []string{`field "opt"`, "more than once"}},
	{name: "message not well-known", query: "inner_plain=x", wantErr: []string{`message field "inner_plain"`, "params.test.Inner"}},
	{name: "repeated message not well-known", query: "inners=x", wantErr: []string{`message field "inners"`}},
	{name: "any", query: "any=x", wantErr: []string{`message field "any"`, "google.protobuf.Any"}},
	{name: "wrapper bad", query: "w_u32=-1", wantErr: []string{`field "w_u32"`, `"-1"`}},
	{name: "bool wrapper bad", query: "w_bool=maybe", wantErr: []string{`field "w_bool"`}},
	{name: "bytes wrapper bad", query: "w_bytes=%25", wantErr: []string{`field "w_bytes"`}},
	{name: "struct bad json", query: "st={", wantErr: []string{`field "st"`, `"{"`}},
	{name: "struct not an object", query: "st=[]", wantErr: []string{`field "st"`}},
	{name: "value bad json", query: "val=x", wantErr: []string{`field "val"`}},
	{name: "list value not a list", query: "lv={}", wantErr: []string{`field "lv"`}},
	{name: "empty with content", query: "empty=x", wantErr: []string{`field "empty"`, `"x"`}},
	{name: "repeated timestamp bad", query: "rts=2024-01-01T00:00:00Z&rts=x", wantErr: []string{`field "rts"`, `"x"`}},
}

func TestQueryKinds(t *testing.T) {
	newMsg := func() protoreflect.Message { return kindsMessage(t) }
	for _, tc := range kindsQueryCases {
		t.Run(tc.name, func(t *testing.T) {
			got := newMsg()
			err := params.Query(got, tc.query, skipFor(t, got.Descriptor(), tc.bound))
			checkResult(t, newMsg, got, err, tc.want, tc.wantErr)
		})
	}
}

// TestQueryClosedEnum covers proto2: a closed enum refuses numbers that name
// no value.
func TestQueryClosedEnum(t *testing.T) {
	newMsg := func() protoreflect.Message { return legacyMessage(t) }
	tests := []queryCase{
		{name: "name", query: "c=ONE", want: `{"c":"ONE"}`},
		{name: "defined number", query: "c=1", want: `{"c":"ONE"}`},
		{name: "zero is present", query: "c=0", want: `{"c":"ZERO"}`},
		{name: "repeated", query: "cs=ONE&cs=0", want: `{"cs":["ONE","ZERO"]}`},
		{name: "string", query: "s=", want: `{"s":""}`},
		{name: "undefined number", query: "c=2", wantErr: []string{`field "c"`, `"2"`, "closed enum params.legacy.Closed"}},
		{name: "undefined number repeated", query: "cs=ONE&cs=7", wantErr: []string{`field "cs"`, `"7"`}},
		{name: "bad utf8 in proto2 string", query: "s=%ff", wantErr: []string{`field "s"`, "UTF-8"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := newMsg()
			err := params.Query(got, tc.query, nil)
			checkResult(t, newMsg, got, err, tc.want, tc.wantErr)
		})
	}
}
