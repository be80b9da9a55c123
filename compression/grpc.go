package compression

import (
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"
	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/gzip" // registers gzip with grpc-go
)

// grpc-go has gzip and no zstd: this is zstd for grpc-go's encoding
// registry (both the gRPC door and the gateway's gRPC clients), over
// klauspost/compress's encoder and decoder, pooled.
func init() { encoding.RegisterCompressor(zstdCompressor{}) }

type zstdCompressor struct{}

var (
	zstdEncoders sync.Pool // *zstd.Encoder
	zstdDecoders sync.Pool // *zstd.Decoder
)

func (zstdCompressor) Name() string { return Zstd }

func (zstdCompressor) Compress(w io.Writer) (io.WriteCloser, error) {
	if e, ok := zstdEncoders.Get().(*zstd.Encoder); ok {
		e.Reset(w)
		return pooledEncoder{e}, nil
	}
	e, err := zstd.NewWriter(w, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		return nil, err
	}
	return pooledEncoder{e}, nil
}

// pooledEncoder returns its encoder to the pool once closed.
type pooledEncoder struct{ *zstd.Encoder }

func (p pooledEncoder) Close() error {
	err := p.Encoder.Close()
	zstdEncoders.Put(p.Encoder)
	return err
}

func (zstdCompressor) Decompress(r io.Reader) (io.Reader, error) {
	d, ok := zstdDecoders.Get().(*zstd.Decoder)
	if !ok {
		var err error
		// Concurrency 1: decoding runs in the caller's goroutine, nothing
		// left running between messages. grpc-go bounds the output by
		// its max message size.
		if d, err = newDecoder(); err != nil {
			return nil, err
		}
	}
	if err := d.Reset(r); err != nil {
		zstdDecoders.Put(d)
		return nil, err
	}
	return &pooledDecoder{d: d}, nil
}

// newDecoder is a synchronous zstd decoder whose window (the memory a
// frame may ask for) is bounded.
func newDecoder() (*zstd.Decoder, error) {
	return zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(8<<20), zstd.WithDecoderLowmem(true))
}

// pooledDecoder returns its decoder to the pool at the end of the data.
type pooledDecoder struct {
	d *zstd.Decoder
}

func (p *pooledDecoder) Read(b []byte) (int, error) {
	if p.d == nil {
		return 0, io.EOF
	}
	n, err := p.d.Read(b)
	if err == io.EOF {
		_ = p.d.Reset(nil)
		zstdDecoders.Put(p.d)
		p.d = nil
	}
	return n, err
}
