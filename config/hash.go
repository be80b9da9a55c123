package config

import (
	"crypto/sha256"
	"encoding/hex"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"google.golang.org/protobuf/proto"
)

// Hash is the SHA-256 (hex) of a config's deterministic protobuf
// encoding, secrets included: two gateways with the same hash run the
// same config. It identifies a snapshot's config (the admin API, the
// OpenAPI document's version).
func Hash(c *configv1.Config) string {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(c)
	if err != nil {
		return "" // a config message always encodes
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
