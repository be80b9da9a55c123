// Package apikey checks API keys against a keys file that stores only
// their SHA-256 hashes.
package apikey

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"sort"

	"sigs.k8s.io/yaml"
)

// Key is one entry of a keys file.
type Key struct {
	// ID names the key (logs, metrics, usage plans); never the key itself.
	ID string `json:"id"`
	// SHA256 is the lower-case hex SHA-256 of the key.
	SHA256 string `json:"sha256"`
	// Principal is who the key stands for; default the ID.
	Principal string `json:"principal,omitempty"`
	// Plan is the usage plan the key is bound to, if any.
	Plan string `json:"plan,omitempty"`
}

// Keys is a loaded keys file.
type Keys struct {
	byHash map[[sha256.Size]byte]*Key
}

var (
	hexSHA256 = regexp.MustCompile(`^[0-9a-f]{64}$`)
	validID   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:@/-]*$`)
)

// Load reads a keys file: a YAML list of {id, sha256, principal, plan}.
// Every entry is checked; an error names the entry.
func Load(path string) (*Keys, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data)
}

// Parse reads a keys file's content.
func Parse(data []byte) (*Keys, error) {
	var list []Key
	if err := yaml.UnmarshalStrict(data, &list); err != nil {
		return nil, fmt.Errorf("not a list of {id, sha256, principal, plan}: %v", err)
	}
	ks := &Keys{byHash: make(map[[sha256.Size]byte]*Key, len(list))}
	ids := map[string]bool{}
	for i := range list {
		k := &list[i]
		switch {
		case !validID.MatchString(k.ID):
			return nil, fmt.Errorf("[%d].id: %q is not a valid key id", i, k.ID)
		case ids[k.ID]:
			return nil, fmt.Errorf("[%d].id: %q is listed twice", i, k.ID)
		case !hexSHA256.MatchString(k.SHA256):
			return nil, fmt.Errorf("[%d].sha256: want 64 lower-case hex digits (the key's SHA-256)", i)
		}
		ids[k.ID] = true
		var sum [sha256.Size]byte
		_, _ = hex.Decode(sum[:], []byte(k.SHA256))
		if other, dup := ks.byHash[sum]; dup {
			return nil, fmt.Errorf("[%d].sha256: the same key as %q", i, other.ID)
		}
		if k.Principal == "" {
			k.Principal = k.ID
		}
		ks.byHash[sum] = k
	}
	return ks, nil
}

// Lookup returns the key whose hash is the presented key's, or nil (also
// on a nil Keys). The lookup is by hash, so its timing tells nothing
// useful about stored keys.
func (ks *Keys) Lookup(presented string) *Key {
	if ks == nil || presented == "" {
		return nil
	}
	return ks.byHash[sha256.Sum256([]byte(presented))]
}

// Len is the number of keys.
func (ks *Keys) Len() int { return len(ks.byHash) }

// Hash returns the keys-file form of a key (tools, tests).
func Hash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// List returns the keys, sorted by id (none for a nil Keys).
func (ks *Keys) List() []Key {
	if ks == nil {
		return nil
	}
	out := make([]Key, 0, len(ks.byHash))
	for _, k := range ks.byHash {
		out = append(out, *k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Get returns the key called id (false for none, and on a nil Keys). The
// keys are few and read by the admin API only: a scan will do.
func (ks *Keys) Get(id string) (Key, bool) {
	if ks != nil {
		for _, k := range ks.byHash {
			if k.ID == id {
				return *k, true
			}
		}
	}
	return Key{}, false
}

// Has reports whether a key is called id.
func (ks *Keys) Has(id string) bool {
	_, ok := ks.Get(id)
	return ok
}
