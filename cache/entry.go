package cache

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"time"

	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protowire"
)

// entry is one cached answer: the response message's bytes, the
// backend's header and trailer metadata, until when it is fresh and until
// when it may be served stale, and its ETag.
type entry struct {
	body            []byte
	header, trailer metadata.MD
	fresh, stale    time.Time
	etag            string
}

// etagOf is a strong validator of an answer: the SHA-256 of the response
// message's deterministic bytes (the JSON a method writes is a function
// of them), base64url, quoted.
func etagOf(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
}

// The entry's fields on the wire, in protobuf's encoding (protowire): a
// store keeps bytes, and the Redis store shares them between replicas
// that may run different builds, so the format is explicit and skips
// what it does not know.
const (
	fieldBody    = 1
	fieldHeader  = 2 // a pair: name, value
	fieldTrailer = 3
	fieldFresh   = 4 // Unix nanoseconds
	fieldStale   = 5
	fieldETag    = 6
	fieldPairKey = 1
	fieldPairVal = 2
)

func (e *entry) marshal() []byte {
	b := make([]byte, 0, len(e.body)+64)
	b = protowire.AppendTag(b, fieldBody, protowire.BytesType)
	b = protowire.AppendBytes(b, e.body)
	b = appendMD(b, fieldHeader, e.header)
	b = appendMD(b, fieldTrailer, e.trailer)
	b = protowire.AppendTag(b, fieldFresh, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(e.fresh.UnixNano()))
	b = protowire.AppendTag(b, fieldStale, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(e.stale.UnixNano()))
	b = protowire.AppendTag(b, fieldETag, protowire.BytesType)
	return protowire.AppendString(b, e.etag)
}

func appendMD(b []byte, field protowire.Number, md metadata.MD) []byte {
	for k, vs := range md {
		for _, v := range vs {
			var pair []byte
			pair = protowire.AppendTag(pair, fieldPairKey, protowire.BytesType)
			pair = protowire.AppendString(pair, k)
			pair = protowire.AppendTag(pair, fieldPairVal, protowire.BytesType)
			pair = protowire.AppendString(pair, v)
			b = protowire.AppendTag(b, field, protowire.BytesType)
			b = protowire.AppendBytes(b, pair)
		}
	}
	return b
}

var errBadEntry = errors.New("cache: malformed entry")

func unmarshalEntry(b []byte) (*entry, error) {
	e := &entry{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, errBadEntry
		}
		b = b[n:]
		switch {
		case typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return nil, errBadEntry
			}
			b = b[n:]
			if err := e.setBytes(num, v); err != nil {
				return nil, err
			}
		case typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return nil, errBadEntry
			}
			b = b[n:]
			switch num {
			case fieldFresh:
				e.fresh = time.Unix(0, int64(v))
			case fieldStale:
				e.stale = time.Unix(0, int64(v))
			}
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return nil, errBadEntry
			}
			b = b[n:]
		}
	}
	return e, nil
}

func (e *entry) setBytes(num protowire.Number, v []byte) error {
	switch num {
	case fieldBody:
		e.body = v
	case fieldETag:
		e.etag = string(v)
	case fieldHeader, fieldTrailer:
		k, val, err := pair(v)
		if err != nil {
			return err
		}
		md := &e.header
		if num == fieldTrailer {
			md = &e.trailer
		}
		if *md == nil {
			*md = metadata.MD{}
		}
		(*md)[k] = append((*md)[k], val)
	}
	return nil
}

func pair(b []byte) (k, v string, err error) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || typ != protowire.BytesType {
			return "", "", errBadEntry
		}
		s, m := protowire.ConsumeString(b[n:])
		if m < 0 {
			return "", "", errBadEntry
		}
		b = b[n+m:]
		switch num {
		case fieldPairKey:
			k = s
		case fieldPairVal:
			v = s
		}
	}
	return k, v, nil
}
