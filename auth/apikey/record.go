package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"
)

// Record is a managed key as the store keeps it: what it stands for and
// the SHA-256 of its secret, never the secret.
type Record struct {
	ID        string `json:"id"`
	Principal string `json:"principal"`
	Plan      string `json:"plan,omitempty"`
	// Disabled keys are refused (the zero Record is enabled).
	Disabled bool `json:"disabled,omitempty"`
	// Expires is when the key stops working; zero: never.
	Expires time.Time `json:"expires,omitzero"`
	// APIs are the services (full names) it may call; empty: all.
	APIs []string `json:"apis,omitempty"`
	// SHA256 is the lower-case hex SHA-256 of the secret.
	SHA256 string `json:"sha256"`
	// PreviousSHA256 is the secret's before the last rotation, accepted
	// until PreviousUntil.
	PreviousSHA256 string    `json:"previous_sha256,omitempty"`
	PreviousUntil  time.Time `json:"previous_until,omitzero"`
	Created        time.Time `json:"created"`
	Updated        time.Time `json:"updated"`
}

// Allows reports whether the key may call a method of service (a full
// name); "" (a plain HTTP route, no service) is allowed only to a key
// without an APIs list.
func (r *Record) Allows(service string) bool {
	return len(r.APIs) == 0 || service != "" && slices.Contains(r.APIs, service)
}

// usable reports whether the key is accepted at now: enabled and not
// expired; previous says the secret presented is the one before the last
// rotation, which must still be in its grace period.
func (r *Record) usable(now time.Time, previous bool) bool {
	switch {
	case r.Disabled:
		return false
	case !r.Expires.IsZero() && !now.Before(r.Expires):
		return false
	case previous && !now.Before(r.PreviousUntil):
		return false
	}
	return true
}

// managedID is what a managed key's id may be: it is a path segment of
// the admin API's REST routes, so no "/" and no ":".
var managedID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$`)

// ErrInvalid is the error of a key id that cannot name a managed key.
var ErrInvalid = errors.New("invalid API key id")

// CheckID reports why id cannot name a managed key (ErrInvalid), or nil.
func CheckID(id string) error {
	if !managedID.MatchString(id) {
		return fmt.Errorf("%w %q: want 1 to 128 letters, digits and ._@- (starting with a letter or digit)", ErrInvalid, id)
	}
	return nil
}

// newSecret makes a secret and its hash: 32 random bytes, base64url, with
// a prefix that secret scanners can look for.
func newSecret() (secret, sum string, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", err
	}
	secret = "pk_" + base64.RawURLEncoding.EncodeToString(b[:])
	return secret, Hash(secret), nil
}

// newID makes an id for a key created without one.
func newID() (string, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "key-" + hex.EncodeToString(b[:]), nil
}

// sumOf decodes a hex SHA-256; ok is false for anything else.
func sumOf(h string) (sum [sha256.Size]byte, ok bool) {
	if !hexSHA256.MatchString(h) {
		return sum, false
	}
	_, _ = hex.Decode(sum[:], []byte(h))
	return sum, true
}
