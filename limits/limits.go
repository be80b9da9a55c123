// Package limits holds the edge limits of both doors — what one client
// may send and hold — read from the config's limits: section with their
// defaults, and the per-door budget of bytes being decoded at once.
package limits

import (
	"time"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Limits are the edge limits of both doors, from the config's `limits:`
// with the defaults filled in. A time-out of 0 is off.
type Limits struct {
	// MaxHeaderBytes bounds request headers (REST, 431) and the gRPC
	// header list.
	MaxHeaderBytes int
	// ReadHeaderTimeout bounds reading a request's headers (slowloris).
	ReadHeaderTimeout time.Duration
	// IdleTimeout closes idle keep-alive connections (REST) and idle gRPC
	// connections.
	IdleTimeout time.Duration
	// MaxConcurrentStreams bounds HTTP/2 and gRPC streams per connection.
	MaxConcurrentStreams uint32
	// MaxJSONDepth and MaxJSONValues bound one JSON message.
	MaxJSONDepth, MaxJSONValues int
	// MaxBodyBytes bounds a REST body (each message of a streaming one) and
	// a gRPC message.
	MaxBodyBytes int64
	// BodyTimeout bounds reading a unary body or message (REST and gRPC),
	// and each message of a streaming REST body.
	BodyTimeout time.Duration
	// MaxInFlight bounds the calls in flight per door.
	MaxInFlight int64
	// MaxPathBytes bounds the request path (414).
	MaxPathBytes int
	// KeepaliveTime, KeepaliveTimeout and MinPingInterval are the gRPC
	// door's keepalive policy.
	KeepaliveTime, KeepaliveTimeout, MinPingInterval time.Duration
	// WriteTimeout bounds writing a unary response, and each message of a
	// streamed one (a client that stops reading is let go).
	WriteTimeout time.Duration
	// ShutdownGrace is what calls in flight get to finish on shutdown.
	ShutdownGrace time.Duration
	// MaxBodyBytesInFlight bounds the bytes of large requests being
	// decoded and served at once, per door.
	MaxBodyBytesInFlight int64
	// MaxQueryParams bounds the parameters of a REST query string (with a
	// form body, of both together).
	MaxQueryParams int
}

var defaults = Limits{
	MaxHeaderBytes:       64 << 10,
	ReadHeaderTimeout:    10 * time.Second,
	IdleTimeout:          120 * time.Second,
	MaxConcurrentStreams: 250,
	MaxJSONDepth:         64,
	MaxJSONValues:        10_000,
	MaxBodyBytes:         4 << 20,
	BodyTimeout:          30 * time.Second,
	MaxInFlight:          4096,
	MaxPathBytes:         8 << 10,
	KeepaliveTime:        2 * time.Hour,
	KeepaliveTimeout:     20 * time.Second,
	MinPingInterval:      15 * time.Second,
	WriteTimeout:         60 * time.Second,
	ShutdownGrace:        25 * time.Second,
	MaxBodyBytesInFlight: 16 << 20,
	MaxQueryParams:       1000,
}

// From reads the config's limits over the defaults.
func From(c *configv1.Config) Limits {
	l := defaults
	in := c.GetLimits()
	if in != nil && in.MaxHeaderBytes != nil {
		l.MaxHeaderBytes = int(in.GetMaxHeaderBytes())
	}
	dur(&l.ReadHeaderTimeout, in.GetReadHeaderTimeout())
	dur(&l.IdleTimeout, in.GetIdleTimeout())
	if in != nil && in.MaxConcurrentStreams != nil {
		l.MaxConcurrentStreams = in.GetMaxConcurrentStreams()
	}
	if in != nil && in.MaxJsonDepth != nil {
		l.MaxJSONDepth = int(in.GetMaxJsonDepth())
	}
	if in != nil && in.MaxJsonValues != nil {
		l.MaxJSONValues = int(in.GetMaxJsonValues())
	}
	if in != nil && in.MaxBodyBytes != nil {
		l.MaxBodyBytes = int64(in.GetMaxBodyBytes())
	}
	dur(&l.BodyTimeout, in.GetBodyTimeout())
	if in != nil && in.MaxInFlight != nil {
		l.MaxInFlight = int64(in.GetMaxInFlight())
	}
	if in != nil && in.MaxPathBytes != nil {
		l.MaxPathBytes = int(in.GetMaxPathBytes())
	}
	dur(&l.KeepaliveTime, in.GetKeepaliveTime())
	dur(&l.KeepaliveTimeout, in.GetKeepaliveTimeout())
	dur(&l.MinPingInterval, in.GetMinPingInterval())
	dur(&l.WriteTimeout, in.GetWriteTimeout())
	if in != nil && in.MaxBodyBytesInFlight != nil {
		l.MaxBodyBytesInFlight = int64(in.GetMaxBodyBytesInFlight())
	}
	if in != nil && in.MaxQueryParams != nil {
		l.MaxQueryParams = int(in.GetMaxQueryParams())
	}
	dur(&l.ShutdownGrace, c.GetShutdown().GetGracePeriod())
	return l
}

// dur sets *d from a config duration when the config has one.
func dur(d *time.Duration, v *durationpb.Duration) {
	if v != nil {
		*d = v.AsDuration()
	}
}

// RecursionLimit is the decoded-message nesting allowed: two message
// levels per JSON level (Struct and Value alternate), plus the request.
func (l Limits) RecursionLimit() int { return 2*l.MaxJSONDepth + 2 }
