package cache

import (
	"context"
	"fmt"
	"strings"

	"github.com/portico-gw/portico/catalog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Purge drops cached answers: those of method (a full name or gRPC path)
// when it is set, those whose key starts with keyPrefix when it is set
// (within method's when both are), every answer when neither is. It
// returns how many it dropped. Errors are gRPC statuses (the admin API
// answers with them).
func (c *Cache) Purge(ctx context.Context, method, keyPrefix string) (int64, error) {
	prefix := keyPrefix
	if method != "" {
		name, err := catalog.MethodSelector(method)
		if err != nil {
			return 0, status.Error(codes.InvalidArgument, err.Error())
		}
		var m *catalog.Method
		for _, cm := range c.cat.MethodList() {
			if cm.Desc().FullName() == name {
				m = cm
				break
			}
		}
		if m == nil || c.rules[m] == nil {
			return 0, status.Errorf(codes.NotFound, "%s is not a cached method", name)
		}
		mp := c.rules[m].prefix
		switch {
		case keyPrefix == "":
			prefix = mp
		case !strings.HasPrefix(keyPrefix, mp):
			return 0, status.Errorf(codes.InvalidArgument, "key_prefix %q is not a key of %s (its keys start with %q)", keyPrefix, name, mp)
		}
	}
	n, err := c.store.Purge(ctx, prefix)
	if err != nil {
		return n, status.Error(codes.Unavailable, fmt.Sprintf("the %s store failed after dropping %d answers: %v", c.store.name, n, err))
	}
	return n, nil
}
