package admin

import (
	"context"

	adminv1 "github.com/portico-gw/portico/gen/portico/admin/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// PurgeCache drops cached answers: a method's, those under a key prefix,
// or all. Like every change, it is written to the audit log.
func (s *Service) PurgeCache(ctx context.Context, req *adminv1.PurgeCacheRequest) (*adminv1.PurgeCacheResponse, error) {
	c := s.gw.Current().Cache
	if c == nil {
		return nil, status.Error(codes.FailedPrecondition, "no method is cached (apis[].methods[].cache)")
	}
	n, err := c.Purge(ctx, req.GetMethod(), req.GetKeyPrefix())
	s.log.Info("admin: cache purged", "client_ip", clientIP(ctx), "method", req.GetMethod(), "key_prefix", req.GetKeyPrefix(), "purged", n, "error", err)
	if err != nil {
		return nil, err
	}
	return &adminv1.PurgeCacheResponse{Purged: n}, nil
}
