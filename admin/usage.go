package admin

import (
	"context"
	"errors"

	adminv1 "github.com/portico-gw/portico/gen/portico/admin/v1"
	"github.com/portico-gw/portico/ratelimit"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// GetUsage reads, without charging anything, the counters the rate
// limiter charges for the key under its plan.
func (s *Service) GetUsage(ctx context.Context, req *adminv1.GetUsageRequest) (*adminv1.Usage, error) {
	key, err := s.GetApiKey(ctx, &adminv1.GetApiKeyRequest{Id: req.GetId(), Provider: req.GetProvider()})
	if err != nil {
		return nil, err
	}
	out := &adminv1.Usage{Id: key.GetId(), Provider: key.GetProvider(), Plan: key.GetPlan()}
	lim := s.gw.Current().Limiter
	if key.GetPlan() == "" || lim == nil {
		return out, nil
	}
	usage, err := lim.Usage(ctx, key.GetId(), key.GetPlan())
	switch {
	case errors.Is(err, ratelimit.ErrUnknownPlan):
		return nil, status.Errorf(codes.FailedPrecondition, "key %q: %v", key.GetId(), err)
	case errors.Is(err, ratelimit.ErrUnavailable):
		return nil, status.Errorf(codes.Unavailable, "the rate limiter's store cannot be reached: %v", err)
	case err != nil:
		return nil, status.Error(codes.Internal, err.Error())
	}
	for _, u := range usage {
		l := &adminv1.UsageLimit{Name: u.Name, Kind: "rate", Limit: u.Limit, Used: u.Used, Remaining: u.Remaining,
			Period: u.Period, ResetTime: timestamppb.New(u.Reset)}
		if u.Quota {
			l.Kind, l.PeriodStart = "quota", timestamppb.New(u.Start)
		}
		out.Limits = append(out.Limits, l)
	}
	return out, nil
}
