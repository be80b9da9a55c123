package cache

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/portico-gw/portico/call"
	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/codec"
	"github.com/portico-gw/portico/telemetry"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// How the cache answered a call, in the response header HeaderName, the
// metrics and the access log.
const (
	resultHit   = "hit"
	resultMiss  = "miss"
	resultStale = "stale"
)

// HeaderName is the response header (gRPC: metadata x-cache) that says
// how the cache answered: hit, miss or stale.
const HeaderName = "X-Cache"

// answerer answers one call from an entry.
type answerer struct {
	ctx  context.Context
	info *call.Info
	m    *catalog.Method
	r    *rule
}

func newAnswerer(ctx context.Context, m *catalog.Method, r *rule) answerer {
	return answerer{ctx: ctx, info: call.FromContext(ctx), m: m, r: r}
}

// answer gives the caller e: the backend's metadata as it reported it,
// the cache's headers, and the message — or, on the REST door, a 304
// when the client's If-None-Match already holds the answer's ETag.
func (a answerer) answer(e *entry, result string, now time.Time) (any, error) {
	telemetry.CacheLookup(a.ctx, a.m.FullMethod(), result)
	if len(e.header) > 0 {
		_ = grpc.SetHeader(a.ctx, e.header.Copy())
	}
	if len(e.trailer) > 0 {
		_ = grpc.SetTrailer(a.ctx, e.trailer.Copy())
	}
	if a.info != nil {
		a.info.SetResponseHeader(HeaderName, result)
		if a.info.Door == call.REST && !e.fresh.IsZero() {
			a.info.SetResponseHeader("ETag", e.etag)
			a.info.SetResponseHeader("Cache-Control", a.r.cacheControl(e.fresh.Sub(now)))
			if matches(a.info.Values("If-None-Match"), e.etag) {
				return nil, call.NotModified()
			}
		}
	}
	return a.m.ParseResponse(e.body, codec.DefaultRecursionLimit)
}

// cacheControl is the Cache-Control the REST door sends with a kept
// answer: max-age the seconds it stays fresh (rounded down, 0 once
// stale); private when the answer was made for one principal, so that no
// shared cache on the way keeps it for another.
func (r *rule) cacheControl(left time.Duration) string {
	age := int64(max(left, 0) / time.Second)
	cc := "max-age=" + strconv.FormatInt(age, 10)
	if r.principal {
		return "private, " + cc
	}
	return cc
}

// matches reports whether an If-None-Match field lists etag, by the weak
// comparison RFC 9110 asks of If-None-Match (W/ ignored), or is "*".
func matches(fields []string, etag string) bool {
	for _, f := range fields {
		for t := range strings.SplitSeq(f, ",") {
			t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
			if t == "*" || t == etag {
				return true
			}
		}
	}
	return false
}

// freshness reads the backend's Cache-Control (response metadata
// cache-control; an http integration's response header arrives as it):
// no-store and no-cache keep nothing; private keeps the answer only when
// the key holds the principal; max-age shortens the ttl. The result is
// how long the answer is fresh and whether it is kept.
func (r *rule) freshness(md metadata.MD) (time.Duration, bool) {
	ttl := time.Duration(r.ttl)
	for _, v := range md.Get("cache-control") {
		for d := range strings.SplitSeq(v, ",") {
			name, val, _ := strings.Cut(strings.ToLower(strings.TrimSpace(d)), "=")
			switch strings.TrimSpace(name) {
			case "no-store", "no-cache":
				return 0, false
			case "private":
				if !r.principal {
					return 0, false
				}
			case "max-age":
				n, err := strconv.ParseInt(strings.Trim(strings.TrimSpace(val), `"`), 10, 64)
				if err != nil || n < 0 {
					return 0, false // unreadable: not kept
				}
				if d := time.Duration(n) * time.Second; d < ttl {
					ttl = d
				}
			}
		}
	}
	return ttl, ttl > 0
}

// recorder stands in for the call's transport while the backend runs, so
// the metadata it reports is kept with the answer and replayed to every
// caller (the first included) through the caller's own transport.
type recorder struct {
	method          string
	header, trailer metadata.MD
}

func (r *recorder) Method() string { return r.method }

func (r *recorder) SetHeader(md metadata.MD) error {
	r.header = metadata.Join(r.header, md)
	return nil
}

func (r *recorder) SendHeader(md metadata.MD) error { return r.SetHeader(md) }

func (r *recorder) SetTrailer(md metadata.MD) error {
	r.trailer = metadata.Join(r.trailer, md)
	return nil
}
