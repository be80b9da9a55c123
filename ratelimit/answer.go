package ratelimit

import (
	"strconv"
	"time"

	"github.com/portico-gw/portico/call"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// writeHeaders sets the IETF RateLimit-Policy and RateLimit fields
// (draft-ietf-httpapi-ratelimit-headers): per limit, its quota q per
// window w, and the calls r it admits now with the seconds t until it is
// whole again (a refused limit: until it admits a call). On the gRPC door
// they are response metadata.
func writeHeaders(info *call.Info, policy string, names []string, out []State) {
	var buf [128]byte
	b := buf[:0]
	for i, st := range out {
		if st.Remaining < 0 {
			return // unknown (Redis unavailable, failure_mode allow)
		}
		if i > 0 {
			b = append(b, ", "...)
		}
		b = strconv.AppendQuote(b, names[i])
		b = append(b, ";r="...)
		b = strconv.AppendInt(b, st.Remaining, 10)
		b = append(b, ";t="...)
		t := st.Reset
		if !st.Allowed {
			t = st.RetryAfter
		}
		b = strconv.AppendInt(b, seconds(t), 10)
	}
	// Header names in Go's canonical form: Set then has nothing to
	// rewrite (the field names are case-insensitive on the wire). A gate
	// that ran before this one (a PolicyGate) has written its own limits:
	// these are added to them.
	prev := info.ResponseHeader()
	info.SetResponseHeader("Ratelimit-Policy", joinList(prev.Get("Ratelimit-Policy"), policy))
	info.SetResponseHeader("Ratelimit", joinList(prev.Get("Ratelimit"), string(b)))
}

// seconds rounds d up to whole seconds.
func seconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

// refusal is a refused call's status: RESOURCE_EXHAUSTED (429 on the REST
// door) with google.rpc.RetryInfo and a google.rpc.QuotaFailure naming the
// limits that refused, and Retry-After (seconds, at least 1).
func refusal(info *call.Info, names []string, items []Item, out []State) error {
	var wait time.Duration
	qf := &errdetails.QuotaFailure{}
	msg := "rate limit exceeded"
	for i, st := range out {
		if st.Allowed {
			continue
		}
		if st.RetryAfter > wait {
			wait = st.RetryAfter
		}
		desc := "rate limit exceeded"
		if items[i].Quota > 0 {
			desc = "quota exceeded"
			msg = "quota exceeded"
		}
		qf.Violations = append(qf.Violations, &errdetails.QuotaFailure_Violation{Subject: names[i], Description: desc})
	}
	secs := seconds(wait)
	if secs < 1 {
		secs = 1
	}
	info.SetResponseHeader("Retry-After", strconv.FormatInt(secs, 10))
	st, err := status.New(codes.ResourceExhausted, msg).WithDetails(
		&errdetails.RetryInfo{RetryDelay: durationpb.New(wait)}, qf)
	if err != nil {
		return status.Error(codes.ResourceExhausted, msg)
	}
	return st.Err()
}
