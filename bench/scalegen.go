package main

import (
	"os"

	"github.com/portico-gw/portico/bench/scalegen"
	"google.golang.org/protobuf/proto"
)

// writeScaleSet writes scalegen's descriptor set of n routes to path.
func writeScaleSet(path string, n int) error {
	data, err := proto.Marshal(scalegen.Set(n))
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}
