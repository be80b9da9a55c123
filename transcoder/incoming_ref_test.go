package transcoder

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"reflect"
	"strings"
	"testing"

	"github.com/portico-gw/portico/call"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// referenceIncoming is headerMap.incoming's metadata as it was built
// before the values shared one backing array (one slice per key, the
// forwarded-for parts joined from a slice): the slow path the fast one is
// fuzzed against. Grpc-Timeout is left out: both read it alike.
func referenceIncoming(hm *headerMap, r *http.Request) (metadata.MD, error) {
	md := make(metadata.MD, len(r.Header)+2)
	for _, v := range r.Header.Values("Authorization") {
		if validMetadataText(v) {
			md["authorization"] = append(md["authorization"], v)
		}
	}
	for key, vals := range r.Header {
		canon := textproto.CanonicalMIMEHeaderKey(key)
		if canon == "X-Forwarded-For" || canon == "X-Forwarded-Host" {
			continue
		}
		rule := hm.rule(canon)
		if rule.key == "" {
			continue
		}
		for _, v := range vals {
			if rule.bin {
				b, err := call.DecodeBinHeader(v)
				if err != nil {
					return nil, status.Errorf(codes.InvalidArgument, "invalid binary header %s: %s", canon, err)
				}
				v = string(b)
			} else if !validMetadataText(v) {
				continue
			}
			md[rule.key] = append(md[rule.key], v)
		}
	}
	if r.Host != "" && validMetadataText(r.Host) {
		md["x-forwarded-host"] = append(md["x-forwarded-host"], r.Host)
	}
	var xff []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		if validMetadataText(v) {
			xff = append(xff, v)
		}
	}
	if ip, _, err := net.SplitHostPort(r.RemoteAddr); r.RemoteAddr != "" && err == nil && validMetadataText(ip) {
		xff = append(xff, ip)
	}
	if len(xff) > 0 {
		md["x-forwarded-for"] = append(md["x-forwarded-for"], strings.Join(xff, ", "))
	}
	return md, nil
}

// FuzzIncomingMatchesReference holds the metadata headerMap.incoming
// builds against referenceIncoming's for headers made from the input: up
// to eight "name: value" lines (names in any spelling, so several map to
// one key; empty and invalid values; binary headers), a Host and a peer.
func FuzzIncomingMatchesReference(f *testing.F) {
	f.Add("X-Forwarded-For: \nX-Forwarded-For: 1.1.1.1\nx-echo: a\nX-Echo: b", "front", "10.0.0.1:5")
	f.Add("Authorization: Bearer a\nauthorization: Bearer b\nUser-Agent: x", "", "")
	f.Add("X-Trace-Bin: AAEC\nX-Trace-Bin: AAE\nX-Echo: \x01", "h\x7f", "[::1]:80")
	f.Add("X-Forwarded-For: \nX-Forwarded-For: ", "", "bad")
	f.Add("X-Trace-Bin: !!\nAccept: */*", "h", "1.2.3.4:1")
	f.Fuzz(func(t *testing.T, lines, host, remote string) {
		r := httptest.NewRequest("GET", "/v1/x", nil)
		r.Host, r.RemoteAddr = host, remote
		for i, line := range strings.Split(lines, "\n") {
			if i == 8 {
				break
			}
			k, v, ok := strings.Cut(line, ": ")
			if !ok || k == "" || strings.EqualFold(k, "Grpc-Timeout") {
				continue
			}
			r.Header[k] = append(r.Header[k], v) // as sent: not canonicalized
		}
		hm := &headerMap{match: headerMatcher([]string{"X-Echo", "X-Trace-Bin"})}
		want, wantErr := referenceIncoming(hm, r)
		ctx, cancel, gotErr := hm.incoming(context.Background(), r)
		if (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("error: got %v, want %v", gotErr, wantErr)
		}
		if wantErr != nil {
			if g, w := gotErr.Error(), wantErr.Error(); g != w {
				t.Fatalf("error: got %v, want %v", g, w)
			}
			return
		}
		defer cancel()
		got, _ := metadata.FromIncomingContext(ctx)
		if len(want) == 0 {
			want = nil
		}
		if len(got) == 0 {
			got = nil
		}
		// Two spellings of one name (Authorization, authorization) add
		// to one key in map order, in both: compare each key's values as
		// a set of lines.
		if !reflect.DeepEqual(keysAndValues(got), keysAndValues(want)) {
			t.Errorf("metadata:\ngot  %v\nwant %v", keysAndValues(got), keysAndValues(want))
		}
	})
}
