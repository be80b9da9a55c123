// Package compression is the gateway's compression on every door, with
// klauspost/compress's codecs: REST (and Connect unary) responses
// negotiated by Accept-Encoding, request bodies sent with
// Content-Encoding, the gRPC door's grpc-encoding (gzip and zstd
// registered with grpc-go here, not left to a dependency's side effect)
// and what the gateway asks its gRPC backends for.
//
// A request body is decompressed as it is read, so the doors' limits
// count decompressed bytes: a body over max_body_bytes once decompressed
// is refused (413) after at most that many bytes were produced, and the
// bytes charged to max_body_bytes_in_flight are the decompressed ones.
package compression

import (
	"fmt"
	"slices"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"google.golang.org/grpc"
)

// The algorithms' names, as in the config and on the wire.
const (
	Zstd     = "zstd"
	Gzip     = "gzip"
	Identity = "identity"
)

// DefaultMinBytes is compression.min_bytes' default: smaller answers are
// sent as they are.
const DefaultMinBytes = 1024

// Compression is the compression section, read.
type Compression struct {
	algorithms []string // offered, preferred first; identity left out
	minBytes   int
	backends   string // "" or none: no compression asked of backends
}

// New reads the compression section (nil: the defaults).
func New(c *configv1.Compression) (*Compression, error) {
	algs := c.GetAlgorithms()
	if len(algs) == 0 {
		algs = []string{Zstd, Gzip}
	}
	out := &Compression{minBytes: DefaultMinBytes, backends: c.GetBackends()}
	for i, a := range algs {
		switch a {
		case Zstd, Gzip:
			out.algorithms = append(out.algorithms, a)
		case Identity:
		default:
			return nil, fmt.Errorf("algorithms[%d]: unknown algorithm %q (zstd, gzip or identity)", i, a)
		}
	}
	if c != nil && c.MinBytes != nil {
		out.minBytes = int(c.GetMinBytes())
	}
	if out.backends == "none" {
		out.backends = ""
	}
	return out, nil
}

// Algorithms are the algorithms offered to clients, preferred first.
func (c *Compression) Algorithms() []string { return slices.Clone(c.algorithms) }

// MinBytes is the size under which answers are sent as they are.
func (c *Compression) MinBytes() int { return c.minBytes }

// DialOptions ask the gateway's gRPC backends for compression.backends
// (none when it is unset).
func (c *Compression) DialOptions() []grpc.DialOption {
	if c == nil || c.backends == "" {
		return nil
	}
	return []grpc.DialOption{grpc.WithDefaultCallOptions(grpc.UseCompressor(c.backends))}
}

func (c *Compression) offers(a string) bool { return slices.Contains(c.algorithms, a) }
