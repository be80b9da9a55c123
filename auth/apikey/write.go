package apikey

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/redis/go-redis/v9"
)

// Errors of the store's changes.
var (
	// ErrNotFound: no managed key has the id.
	ErrNotFound = errors.New("no such API key")
	// ErrExists: a managed key has the id already.
	ErrExists = errors.New("an API key with this id exists")
	// ErrConflict: the key changed under a change five times in a row.
	ErrConflict = errors.New("the API key was changed concurrently; try again")
)

// swap is the one way the set changes: field ARGV[1] of the hash goes
// from ARGV[2] ("" for absent) to ARGV[3] ("" to delete), and the version
// moves, in one step; 0 when the field was not ARGV[2].
var swap = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur == false then cur = '' end
if cur ~= ARGV[2] then return 0 end
if ARGV[3] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
end
redis.call('INCR', KEYS[2])
return 1
`)

// Create stores a new key made from tmpl (its id, principal, plan,
// disabled, expiry and APIs) with a new secret, and returns the record
// and the secret: the only time the secret exists outside the caller.
// An empty id is made up.
func (s *Store) Create(ctx context.Context, tmpl Record) (*Record, string, error) {
	rec := tmpl
	if rec.ID == "" {
		id, err := newID()
		if err != nil {
			return nil, "", err
		}
		rec.ID = id
	}
	if err := CheckID(rec.ID); err != nil {
		return nil, "", err
	}
	if rec.Principal == "" {
		rec.Principal = rec.ID
	}
	secret, sum, err := newSecret()
	if err != nil {
		return nil, "", err
	}
	now := s.now().UTC()
	rec.SHA256, rec.PreviousSHA256, rec.PreviousUntil = sum, "", time.Time{}
	rec.Created, rec.Updated = now, now
	ok, err := s.swap(ctx, rec.ID, "", &rec)
	if err != nil {
		return nil, "", err
	}
	if !ok {
		return nil, "", fmt.Errorf("%w: %q", ErrExists, rec.ID)
	}
	return &rec, secret, nil
}

// Get reads a key from Redis.
func (s *Store) Get(ctx context.Context, id string) (*Record, error) {
	rec, _, err := s.read(ctx, id)
	return rec, err
}

// List reads every key from Redis, sorted by id.
func (s *Store) List(ctx context.Context) ([]*Record, error) {
	all, err := s.client.HGetAll(ctx, s.hashKey).Result()
	if err != nil {
		return nil, err
	}
	out := make([]*Record, 0, len(all))
	for id, raw := range all {
		rec := &Record{}
		if err := json.Unmarshal([]byte(raw), rec); err != nil {
			return nil, fmt.Errorf("key %q: %v", id, err)
		}
		out = append(out, rec)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Update applies change to the stored key (retrying when another change
// came in between) and returns the new record. change must not touch the
// id or the secrets' hashes.
func (s *Store) Update(ctx context.Context, id string, change func(*Record) error) (*Record, error) {
	return s.modify(ctx, id, func(r *Record) error {
		sum, prev, until := r.SHA256, r.PreviousSHA256, r.PreviousUntil
		if err := change(r); err != nil {
			return err
		}
		// Only Rotate moves the secrets.
		r.SHA256, r.PreviousSHA256, r.PreviousUntil = sum, prev, until
		if r.Principal == "" {
			r.Principal = r.ID
		}
		return nil
	})
}

// Rotate gives the key a new secret; the current one stays valid for
// grace (0: it stops now). It returns the record and the new secret.
func (s *Store) Rotate(ctx context.Context, id string, grace time.Duration) (*Record, string, error) {
	secret, sum, err := newSecret()
	if err != nil {
		return nil, "", err
	}
	rec, err := s.modify(ctx, id, func(r *Record) error {
		r.PreviousSHA256, r.PreviousUntil = "", time.Time{}
		if grace > 0 {
			r.PreviousSHA256, r.PreviousUntil = r.SHA256, s.now().UTC().Add(grace)
		}
		r.SHA256 = sum
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return rec, secret, nil
}

// Revoke deletes the key.
func (s *Store) Revoke(ctx context.Context, id string) error {
	for range 5 {
		_, raw, err := s.read(ctx, id)
		if err != nil {
			return err
		}
		ok, err := s.swapRaw(ctx, id, raw, "")
		if err != nil || ok {
			return err
		}
	}
	return ErrConflict
}

// modify reads, changes and writes back one key, as a compare-and-swap.
func (s *Store) modify(ctx context.Context, id string, change func(*Record) error) (*Record, error) {
	for range 5 {
		rec, raw, err := s.read(ctx, id)
		if err != nil {
			return nil, err
		}
		created := rec.Created
		if err := change(rec); err != nil {
			return nil, err
		}
		rec.ID, rec.Created, rec.Updated = id, created, s.now().UTC()
		ok, err := s.swap(ctx, id, raw, rec)
		if err != nil {
			return nil, err
		}
		if ok {
			return rec, nil
		}
	}
	return nil, ErrConflict
}

// read returns a key and its stored form.
func (s *Store) read(ctx context.Context, id string) (*Record, string, error) {
	raw, err := s.client.HGet(ctx, s.hashKey, id).Result()
	if errors.Is(err, redis.Nil) {
		return nil, "", fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	if err != nil {
		return nil, "", err
	}
	rec := &Record{}
	if err := json.Unmarshal([]byte(raw), rec); err != nil {
		return nil, "", fmt.Errorf("key %q: %v", id, err)
	}
	return rec, raw, nil
}

// swap writes rec in place of old (the stored form, "" for none), and
// reads the set again so this replica serves the change at once.
func (s *Store) swap(ctx context.Context, id, old string, rec *Record) (bool, error) {
	b, err := json.Marshal(rec)
	if err != nil {
		return false, err
	}
	return s.swapRaw(ctx, id, old, string(b))
}

func (s *Store) swapRaw(ctx context.Context, id, old, new string) (bool, error) {
	n, err := swap.Run(ctx, s.client, []string{s.hashKey, s.verKey}, id, old, new).Int()
	if err != nil {
		return false, err
	}
	if n == 1 {
		_ = s.Sync(ctx)
	}
	return n == 1, nil
}
