package webprotocols

import (
	"fmt"
	"io"

	"connectrpc.com/connect"
	"connectrpc.com/vanguard"
	"github.com/klauspost/compress/gzip"
)

// vanguard decompresses a gzip message itself when it must transcode it
// (a JSON codec: Connect JSON unary and streams, gRPC-Web +json), and its
// own decompressor reads to the end: a 1 MiB gzip bomb expanded to GiBs
// in the gateway (TestCompressionBombWebProtocols). This one stops past
// the message limit with RESOURCE_EXHAUSTED, as the gRPC door's gzip and
// the REST door's do. (A proto message is handed to the gRPC door still
// compressed, and bounded there.)

// boundedGunzip is a gzip decompressor that refuses more than limit
// bytes of output.
type boundedGunzip struct {
	gz    gzip.Reader
	limit int64
	n     int64
}

func (d *boundedGunzip) Reset(r io.Reader) error {
	d.n = 0
	return d.gz.Reset(r)
}

func (d *boundedGunzip) Read(p []byte) (int, error) {
	if room := d.limit + 1 - d.n; int64(len(p)) > room {
		p = p[:room] // one byte past the limit tells a larger message
	}
	n, err := d.gz.Read(p)
	d.n += int64(n)
	if d.n > d.limit {
		return n, connect.NewError(connect.CodeResourceExhausted, fmt.Errorf("message after decompression is larger than configured max %d", d.limit))
	}
	return n, err
}

func (d *boundedGunzip) Close() error { return d.gz.Close() }

// boundedGzip is the option that installs it for vanguard's gzip, with
// gzip's own compressor for the answers.
func boundedGzip(limit int64) vanguard.TranscoderOption {
	return vanguard.WithCompression(vanguard.CompressionGzip,
		func() connect.Compressor { return gzip.NewWriter(io.Discard) },
		func() connect.Decompressor { return &boundedGunzip{limit: limit} })
}
