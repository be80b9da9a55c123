package apikey

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// StoreOptions configure a Store.
type StoreOptions struct {
	// Address is Redis's host:port; DB its database; Password is sent
	// with AUTH when set.
	Address  string
	DB       int
	Password string
	// KeyPrefix starts every Redis key written. Default "portico:".
	KeyPrefix string
	// Provider is the api_key provider whose keys these are: each
	// provider's keys live under keys of their own.
	Provider string
	// Poll is how often the store asks Redis whether the keys changed.
	// Default 250ms.
	Poll time.Duration
	// Timeout bounds one Redis round trip. Default 1s.
	Timeout time.Duration
	// Logger is told when Redis becomes unreachable and reachable again.
	Logger *slog.Logger
	// Now is the clock keys' expiry is read against. Default time.Now.
	Now func() time.Time
}

// Store is a provider's managed keys: kept in Redis, shared by every
// replica, looked up in memory.
//
// Each replica holds the whole set in memory and asks Redis every Poll
// for the set's version (a counter every change increments in the same
// step as the change); when it moved, it reads the set again, version and
// keys together (MULTI). Polling rather than pub/sub: a replica that lost
// its connection (or started while Redis was down) needs the whole set
// again anyway, and a poll of one small key both notices changes and
// recovers from any outage, with the delay bounded by Poll; a change made
// through a replica's own admin API is read at once. While Redis cannot
// be reached a replica keeps the keys it knows (and refuses the others),
// and reads the whole set again on the first poll that reaches it.
type Store struct {
	client  *redis.Client
	hashKey string // id -> JSON Record
	verKey  string // the version counter
	poll    time.Duration
	timeout time.Duration
	log     *slog.Logger
	now     func() time.Time
	addr    string

	index   atomic.Pointer[index]
	syncMu  sync.Mutex // one sync at a time
	version int64      // the version index holds; -1: none read yet
	down    bool       // the last sync failed
	stop    chan struct{}
	done    sync.WaitGroup
	closed  sync.Once
}

// index is one read of the set: records by id, and by the hash of each
// secret they accept.
type index struct {
	byID   map[string]*Record
	byHash map[[sha256.Size]byte]entry
}

type entry struct {
	rec      *Record
	previous bool // the secret before the last rotation
}

// NewStore makes a store and starts its poll. It does not wait for
// Redis: until the first read the store knows no key.
func NewStore(opts StoreOptions) *Store {
	if opts.KeyPrefix == "" {
		opts.KeyPrefix = "portico:"
	}
	if opts.Poll <= 0 {
		opts.Poll = 250 * time.Millisecond
	}
	if opts.Timeout <= 0 {
		opts.Timeout = time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	base := opts.KeyPrefix + "apikeys:" + opts.Provider
	s := &Store{
		client: redis.NewClient(&redis.Options{
			Addr:     opts.Address,
			DB:       opts.DB,
			Password: opts.Password,
			// RESP2: no HELLO handshake (as the rate-limit store).
			Protocol:              2,
			DialTimeout:           opts.Timeout,
			ReadTimeout:           opts.Timeout,
			WriteTimeout:          opts.Timeout,
			PoolTimeout:           opts.Timeout,
			ContextTimeoutEnabled: true,
			MaxRetries:            -1, // the next poll is the retry
			DisableIdentity:       true,
		}),
		hashKey: base,
		verKey:  base + ":version",
		poll:    opts.Poll,
		timeout: opts.Timeout,
		log:     opts.Logger,
		now:     opts.Now,
		addr:    opts.Address,
		version: -1,
		stop:    make(chan struct{}),
	}
	s.index.Store(&index{byID: map[string]*Record{}, byHash: map[[sha256.Size]byte]entry{}})
	s.done.Add(1)
	go s.run()
	return s
}

// Lookup returns the record of the presented secret when the key is
// accepted now (enabled, not expired, a previous secret within its grace
// period), or nil (also on a nil Store). It reads memory only.
func (s *Store) Lookup(presented string) *Record {
	if s == nil || presented == "" {
		return nil
	}
	e, ok := s.index.Load().byHash[sha256.Sum256([]byte(presented))]
	if !ok || !e.rec.usable(s.now(), e.previous) {
		return nil
	}
	return e.rec
}

// Known returns the record of id as this replica knows it (nil when it
// does not), without asking Redis.
func (s *Store) Known(id string) *Record { return s.index.Load().byID[id] }

// Len is the number of keys this replica knows.
func (s *Store) Len() int { return len(s.index.Load().byID) }

func (s *Store) run() {
	defer s.done.Done()
	t := time.NewTicker(s.poll)
	defer t.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
		_ = s.Sync(ctx)
		cancel()
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
	}
}

// Sync reads the set from Redis if it changed since the last read (or
// the last read failed). An error leaves the keys known as they were.
func (s *Store) Sync(ctx context.Context) error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	err := s.sync(ctx)
	switch {
	case err != nil && !s.down:
		s.down = true
		s.log.Warn("api keys: redis unreachable; the keys known are kept, unknown ones refused, until it answers",
			"address", s.addr, "err", err)
	case err == nil && s.down:
		s.down = false
		s.log.Info("api keys: redis reachable again; keys read again", "address", s.addr, "keys", s.Len())
	}
	return err
}

func (s *Store) sync(ctx context.Context) error {
	v, err := s.client.Get(ctx, s.verKey).Int64()
	if errors.Is(err, redis.Nil) {
		v, err = 0, nil
	}
	if err != nil {
		return err
	}
	if v == s.version && !s.down {
		return nil
	}
	var ver *redis.StringCmd
	var all *redis.MapStringStringCmd
	_, err = s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		ver = p.Get(ctx, s.verKey)
		all = p.HGetAll(ctx, s.hashKey)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return err
	}
	v, err = ver.Int64()
	if errors.Is(err, redis.Nil) {
		v = 0
	} else if err != nil {
		return err
	}
	idx := &index{byID: map[string]*Record{}, byHash: map[[sha256.Size]byte]entry{}}
	for id, raw := range all.Val() {
		rec := &Record{}
		if err := json.Unmarshal([]byte(raw), rec); err != nil || rec.ID != id {
			s.log.Error("api keys: a stored key cannot be read; it is refused", "id", id, "err", err)
			continue
		}
		idx.add(rec)
	}
	s.index.Store(idx)
	s.version = v
	return nil
}

func (idx *index) add(rec *Record) {
	idx.byID[rec.ID] = rec
	if sum, ok := sumOf(rec.SHA256); ok {
		idx.byHash[sum] = entry{rec: rec}
	}
	if sum, ok := sumOf(rec.PreviousSHA256); ok {
		idx.byHash[sum] = entry{rec: rec, previous: true}
	}
}

// Close stops the poll and closes the connections.
func (s *Store) Close() error {
	var err error
	s.closed.Do(func() {
		close(s.stop)
		s.done.Wait()
		err = s.client.Close()
	})
	return err
}
