package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/portico-gw/portico/auth"
	"github.com/portico-gw/portico/auth/apikey"
	adminv1 "github.com/portico-gw/portico/gen/portico/admin/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Managed API keys: the api_key providers with store: redis keep them in
// Redis (auth/apikey.Store); keys of a keys_file are listed read-only.

// defaultGrace is how long a rotated key's old secret stays valid when
// the request does not say.
const defaultGrace = 24 * time.Hour

// CreateApiKey makes a managed key and returns its secret, once.
func (s *Service) CreateApiKey(ctx context.Context, req *adminv1.CreateApiKeyRequest) (*adminv1.ApiKeySecret, error) {
	k := req.GetKey()
	st := s.gw.Current()
	p, err := managedProvider(st, k.GetProvider())
	if err != nil {
		return nil, err
	}
	if k.GetId() != "" {
		if err := apikey.CheckID(k.GetId()); err != nil {
			return nil, status.Error(codes.InvalidArgument, err.Error())
		}
		if p.File.Has(k.GetId()) {
			return nil, status.Errorf(codes.AlreadyExists, "provider %q: key %q is in its keys_file", p.Name, k.GetId())
		}
	}
	rec := apikey.Record{ID: k.GetId(), Principal: k.GetPrincipal(), Plan: k.GetPlan(), Disabled: !k.GetEnabled() && k.Enabled != nil, APIs: k.GetApis()}
	if k.GetExpireTime() != nil {
		rec.Expires = k.GetExpireTime().AsTime()
	}
	if err := checkRecord(st, &rec); err != nil {
		return nil, err
	}
	out, secret, err := p.Managed.Create(ctx, rec)
	if err != nil {
		return nil, storeError(err)
	}
	return &adminv1.ApiKeySecret{Key: managedKey(p.Name, out), Secret: secret}, nil
}

// ListApiKeys lists every key (managed ones read from Redis), sorted by
// provider and id.
func (s *Service) ListApiKeys(ctx context.Context, req *adminv1.ListApiKeysRequest) (*adminv1.ListApiKeysResponse, error) {
	st := s.gw.Current()
	if req.GetProvider() != "" {
		if _, err := keyProvider(st, req.GetProvider()); err != nil {
			return nil, err
		}
	}
	providers := slices.Clone(st.Keys)
	slices.SortFunc(providers, func(a, b auth.KeyProvider) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	out := &adminv1.ListApiKeysResponse{}
	for _, p := range providers {
		if req.GetProvider() != "" && p.Name != req.GetProvider() {
			continue
		}
		var keys []*adminv1.ApiKey
		for _, k := range p.File.List() {
			keys = append(keys, fileKey(p.Name, k))
		}
		if p.Managed != nil {
			recs, err := p.Managed.List(ctx)
			if err != nil {
				return nil, storeError(err)
			}
			for _, r := range recs {
				keys = append(keys, managedKey(p.Name, r))
			}
		}
		slices.SortStableFunc(keys, func(a, b *adminv1.ApiKey) int {
			switch {
			case a.GetId() < b.GetId():
				return -1
			case a.GetId() > b.GetId():
				return 1
			}
			return 0
		})
		out.Keys = append(out.Keys, keys...)
	}
	return out, nil
}

// GetApiKey returns one key, managed or from the keys file.
func (s *Service) GetApiKey(ctx context.Context, req *adminv1.GetApiKeyRequest) (*adminv1.ApiKey, error) {
	p, err := keyProvider(s.gw.Current(), req.GetProvider())
	if err != nil {
		return nil, err
	}
	if k, ok := p.File.Get(req.GetId()); ok {
		return fileKey(p.Name, k), nil
	}
	if p.Managed == nil {
		return nil, status.Errorf(codes.NotFound, "provider %q has no key %q", p.Name, req.GetId())
	}
	rec, err := p.Managed.Get(ctx, req.GetId())
	if err != nil {
		return nil, storeError(err)
	}
	return managedKey(p.Name, rec), nil
}

// UpdateApiKey changes the fields update_mask names; without a mask, the
// fields the request sets (principal, plan and expire_time when not
// empty, enabled when present, apis when not empty).
func (s *Service) UpdateApiKey(ctx context.Context, req *adminv1.UpdateApiKeyRequest) (*adminv1.ApiKey, error) {
	k := req.GetKey()
	st := s.gw.Current()
	p, err := writable(st, k.GetProvider(), k.GetId())
	if err != nil {
		return nil, err
	}
	paths, err := updatePaths(req)
	if err != nil {
		return nil, err
	}
	rec, err := p.Managed.Update(ctx, k.GetId(), func(r *apikey.Record) error {
		for _, path := range paths {
			switch path {
			case "principal":
				r.Principal = k.GetPrincipal()
			case "plan":
				r.Plan = k.GetPlan()
			case "enabled":
				r.Disabled = k.Enabled != nil && !k.GetEnabled()
			case "expire_time":
				r.Expires = time.Time{}
				if k.GetExpireTime() != nil {
					r.Expires = k.GetExpireTime().AsTime()
				}
			case "apis":
				r.APIs = k.GetApis()
			}
		}
		return checkRecord(st, r)
	})
	if err != nil {
		return nil, storeError(err)
	}
	return managedKey(p.Name, rec), nil
}

// updatePaths are the fields an update changes.
func updatePaths(req *adminv1.UpdateApiKeyRequest) ([]string, error) {
	if paths := req.GetUpdateMask().GetPaths(); len(paths) > 0 {
		for _, path := range paths {
			switch path {
			case "principal", "plan", "enabled", "expire_time", "apis":
			default:
				return nil, status.Errorf(codes.InvalidArgument, "update_mask: %q cannot be changed (principal, plan, enabled, expire_time, apis can)", path)
			}
		}
		return paths, nil
	}
	k := req.GetKey()
	var paths []string
	if k.GetPrincipal() != "" {
		paths = append(paths, "principal")
	}
	if k.GetPlan() != "" {
		paths = append(paths, "plan")
	}
	if k.Enabled != nil {
		paths = append(paths, "enabled")
	}
	if k.GetExpireTime() != nil {
		paths = append(paths, "expire_time")
	}
	if len(k.GetApis()) > 0 {
		paths = append(paths, "apis")
	}
	if len(paths) == 0 {
		return nil, status.Error(codes.InvalidArgument, "nothing to change: set a field, or name it in update_mask")
	}
	return paths, nil
}

// RotateApiKey gives a managed key a new secret, the old one valid for
// the grace period.
func (s *Service) RotateApiKey(ctx context.Context, req *adminv1.RotateApiKeyRequest) (*adminv1.ApiKeySecret, error) {
	p, err := writable(s.gw.Current(), req.GetProvider(), req.GetId())
	if err != nil {
		return nil, err
	}
	grace := defaultGrace
	if g := req.GetGracePeriod(); g != nil {
		if err := g.CheckValid(); err != nil || g.AsDuration() < 0 {
			return nil, status.Errorf(codes.InvalidArgument, "grace_period: want a duration of 0 or more")
		}
		grace = g.AsDuration()
	}
	rec, secret, err := p.Managed.Rotate(ctx, req.GetId(), grace)
	if err != nil {
		return nil, storeError(err)
	}
	return &adminv1.ApiKeySecret{Key: managedKey(p.Name, rec), Secret: secret}, nil
}

// RevokeApiKey deletes a managed key.
func (s *Service) RevokeApiKey(ctx context.Context, req *adminv1.RevokeApiKeyRequest) (*adminv1.RevokeApiKeyResponse, error) {
	p, err := writable(s.gw.Current(), req.GetProvider(), req.GetId())
	if err != nil {
		return nil, err
	}
	if err := p.Managed.Revoke(ctx, req.GetId()); err != nil {
		return nil, storeError(err)
	}
	return &adminv1.RevokeApiKeyResponse{}, nil
}

// keyProvider finds the api_key provider called name; "" is the only one.
func keyProvider(st State, name string) (auth.KeyProvider, error) {
	if name == "" {
		switch len(st.Keys) {
		case 1:
			return st.Keys[0], nil
		case 0:
			return auth.KeyProvider{}, status.Error(codes.FailedPrecondition, "the config has no api_key provider")
		}
		return auth.KeyProvider{}, status.Error(codes.InvalidArgument, "the config has several api_key providers: name one (provider)")
	}
	for _, p := range st.Keys {
		if p.Name == name {
			return p, nil
		}
	}
	return auth.KeyProvider{}, status.Errorf(codes.NotFound, "no api_key provider %q", name)
}

// managedProvider is keyProvider, which must have managed keys.
func managedProvider(st State, name string) (auth.KeyProvider, error) {
	p, err := keyProvider(st, name)
	if err == nil && p.Managed == nil {
		err = status.Errorf(codes.FailedPrecondition, "api_key provider %q has no managed keys (store: redis); its keys_file is read-only here", p.Name)
	}
	return p, err
}

// writable is managedProvider, where id is not a key of the keys file.
func writable(st State, provider, id string) (auth.KeyProvider, error) {
	p, err := managedProvider(st, provider)
	if err == nil && p.File.Has(id) {
		err = status.Errorf(codes.FailedPrecondition, "provider %q: key %q comes from its keys_file, read-only here", p.Name, id)
	}
	return p, err
}

// checkRecord checks a key's plan and APIs against the config served.
func checkRecord(st State, r *apikey.Record) error {
	if r.Plan != "" && (st.Limiter == nil || !st.Limiter.HasPlan(r.Plan)) {
		return status.Errorf(codes.InvalidArgument, "plan: %q is not a usage plan of the config", r.Plan)
	}
	for _, svc := range r.APIs {
		if !slices.ContainsFunc(st.Catalog.Services(), func(sd protoreflect.ServiceDescriptor) bool { return string(sd.FullName()) == svc }) {
			return status.Errorf(codes.InvalidArgument, "apis: %q is not a service the gateway exposes", svc)
		}
	}
	return nil
}

// storeError turns the store's errors into statuses; others (Redis
// unreachable) are UNAVAILABLE.
func storeError(err error) error {
	if _, ok := status.FromError(err); ok {
		return err
	}
	switch {
	case errors.Is(err, apikey.ErrNotFound):
		return status.Error(codes.NotFound, err.Error())
	case errors.Is(err, apikey.ErrExists):
		return status.Error(codes.AlreadyExists, err.Error())
	case errors.Is(err, apikey.ErrConflict):
		return status.Error(codes.Aborted, err.Error())
	case errors.Is(err, apikey.ErrInvalid):
		return status.Error(codes.InvalidArgument, err.Error())
	}
	return status.Error(codes.Unavailable, fmt.Sprintf("the key store cannot be reached: %v", err))
}

// managedKey is a stored key as the API shows it: never a hash.
func managedKey(provider string, r *apikey.Record) *adminv1.ApiKey {
	enabled := !r.Disabled
	k := &adminv1.ApiKey{
		Id: r.ID, Provider: provider, Principal: r.Principal, Plan: r.Plan, Enabled: &enabled,
		Apis: r.APIs, Source: adminv1.ApiKeySource_API_KEY_SOURCE_MANAGED,
		CreateTime: timestamppb.New(r.Created), UpdateTime: timestamppb.New(r.Updated),
	}
	if !r.Expires.IsZero() {
		k.ExpireTime = timestamppb.New(r.Expires)
	}
	if r.PreviousSHA256 != "" {
		k.PreviousSecretExpireTime = timestamppb.New(r.PreviousUntil)
	}
	return k
}

// fileKey is a keys file's key as the API shows it.
func fileKey(provider string, k apikey.Key) *adminv1.ApiKey {
	enabled := true
	principal := k.Principal
	if principal == "" {
		principal = k.ID
	}
	return &adminv1.ApiKey{Id: k.ID, Provider: provider, Principal: principal, Plan: k.Plan, Enabled: &enabled,
		Source: adminv1.ApiKeySource_API_KEY_SOURCE_FILE}
}
