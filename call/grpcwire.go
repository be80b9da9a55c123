package call

import (
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"time"
)

// The gRPC wire's header encodings both doors' HTTP listeners read
// (grpc-go keeps its own internal).

// DecodeBinHeader decodes a -bin header's value: base64, padded or not
// (gRPC's rule).
func DecodeBinHeader(v string) ([]byte, error) {
	if len(v)%4 == 0 {
		return base64.StdEncoding.DecodeString(v)
	}
	return base64.RawStdEncoding.DecodeString(v)
}

// DecodeTimeout reads a gRPC timeout ("100m", "5S"): digits then a unit.
func DecodeTimeout(s string) (time.Duration, error) {
	if len(s) < 2 {
		return 0, fmt.Errorf("timeout string is too short: %q", s)
	}
	var unit time.Duration
	switch s[len(s)-1] {
	case 'H':
		unit = time.Hour
	case 'M':
		unit = time.Minute
	case 'S':
		unit = time.Second
	case 'm':
		unit = time.Millisecond
	case 'u':
		unit = time.Microsecond
	case 'n':
		unit = time.Nanosecond
	default:
		return 0, fmt.Errorf("timeout unit is not recognized: %q", s)
	}
	n, err := strconv.ParseUint(s[:len(s)-1], 10, 64)
	if err != nil {
		return 0, err
	}
	if n > uint64(math.MaxInt64)/uint64(unit) {
		return time.Duration(math.MaxInt64), nil
	}
	return unit * time.Duration(n), nil
}
