package transcoder

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/metadata"
)

// FuzzHeaderMDMatchesAdd holds writeHeaderMD (cached names, one append
// per key) against what it did before: http.Header.Add of
// Grpc-Metadata-<key> for each value, into a header that already holds
// some of the names.
func FuzzHeaderMDMatchesAdd(f *testing.F) {
	f.Add("x-shelf: 1\nx-shelf: 2\nx-trace-bin: AAE\nkey_with_underscore: v", "Grpc-Metadata-X-Shelf: 0")
	f.Add("empty:\nx-a: \nX-Upper: v", "")
	f.Add("a.b: c\nx y: z", "Content-Type: application/json")
	f.Fuzz(func(t *testing.T, mdLines, existing string) {
		md := metadata.MD{}
		for _, line := range strings.Split(mdLines, "\n") {
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			// Metadata keys are lower case (grpc-go's contract for
			// metadata.MD). Two keys differing only in case would name
			// one header, and the order of its values would follow two
			// independent map iterations: seen in CI as a false failure.
			k = strings.ToLower(k)
			md[k] = append(md[k], strings.TrimSpace(v))
			if v == "" {
				md[k] = md[k][:0] // a key without values
			}
		}
		start := func() http.Header {
			h := http.Header{}
			for _, line := range strings.Split(existing, "\n") {
				if k, v, ok := strings.Cut(line, ": "); ok {
					h[k] = append(h[k], v)
				}
			}
			return h
		}
		want := start()
		for k, vs := range md {
			for _, v := range vs {
				want.Add(runtime.MetadataHeaderPrefix+k, v)
			}
		}
		got := start()
		writeHeaderMD(got, runtime.ServerMetadata{HeaderMD: md})
		if !reflect.DeepEqual(got, want) {
			t.Errorf("headers for %v:\ngot  %v\nwant %v", md, got, want)
		}
	})
}

func TestHeaderNameCacheBounded(t *testing.T) {
	var c headerNameCache
	for i := range maxCachedHeaders + 10 {
		k := "x-k" + strings.Repeat("a", i%7) + string(rune('a'+i%26)) + strings.Repeat("b", i/26)
		if got, want := c.of(k), http.CanonicalHeaderKey(runtime.MetadataHeaderPrefix+k); got != want {
			t.Fatalf("of(%q): got %q, want %q", k, got, want)
		}
	}
	if got := c.size.Load(); got != maxCachedHeaders {
		t.Errorf("cached names: got %d, want %d (the bound)", got, maxCachedHeaders)
	}
}
