package ratelimit

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// quotaFile keeps quota usage across restarts: one bbolt file, one record
// per counter (its key → calls used, end of its period).
type quotaFile struct {
	db *bolt.DB
}

var quotaBucket = []byte("quotas")

// QuotaFileName is the file the local store keeps quota usage in, under
// its state folder.
const QuotaFileName = "portico-quotas.db"

// openQuotaFile opens (creating) the quota file in dir. A file another
// process holds is an error after a second, not a wait.
func openQuotaFile(dir string) (*quotaFile, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("state_dir: %v", err)
	}
	path := filepath.Join(dir, QuotaFileName)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("state_dir: %s is in use by another process", path)
		}
		return nil, fmt.Errorf("state_dir: %s: %v", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(quotaBucket)
		return err
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("state_dir: %s: %v", path, err)
	}
	return &quotaFile{db: db}, nil
}

// quotaRecord is one counter as kept.
type quotaRecord struct {
	key  string
	used int64
	end  int64 // unix nanoseconds
}

// load calls f with every counter whose period has not ended by now, and
// drops the others from the file.
func (q *quotaFile) load(now int64, f func(quotaRecord)) error {
	return q.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(quotaBucket)
		var stale [][]byte
		err := b.ForEach(func(k, v []byte) error {
			if len(v) != 16 {
				stale = append(stale, append([]byte(nil), k...))
				return nil
			}
			r := quotaRecord{key: string(k), used: int64(binary.BigEndian.Uint64(v)), end: int64(binary.BigEndian.Uint64(v[8:]))}
			if r.end <= now {
				stale = append(stale, append([]byte(nil), k...))
				return nil
			}
			f(r)
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range stale {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// write saves the counters given and deletes the keys in gone, in one
// transaction.
func (q *quotaFile) write(recs []quotaRecord, gone []string) error {
	if len(recs) == 0 && len(gone) == 0 {
		return nil
	}
	return q.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(quotaBucket)
		var v [16]byte
		for _, r := range recs {
			binary.BigEndian.PutUint64(v[:], uint64(r.used))
			binary.BigEndian.PutUint64(v[8:], uint64(r.end))
			if err := b.Put([]byte(r.key), v[:]); err != nil {
				return err
			}
		}
		for _, k := range gone {
			if err := b.Delete([]byte(k)); err != nil {
				return err
			}
		}
		return nil
	})
}

func (q *quotaFile) close() error { return q.db.Close() }
