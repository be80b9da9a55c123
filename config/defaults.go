package config

import configv1 "github.com/portico-gw/portico/gen/portico/config/v1"

// DefaultHTTPAddress is where the REST/JSON door listens when listen.http is
// empty or absent: loopback only, so that a gateway is never exposed by
// accident.
const DefaultHTTPAddress = "127.0.0.1:8080"

// setDefaults fills in the values a file may leave out.
func setDefaults(cfg *configv1.Config) {
	if cfg.Listen == nil {
		cfg.Listen = &configv1.Listen{}
	}
	if cfg.Listen.Http == "" {
		cfg.Listen.Http = DefaultHTTPAddress
	}
}
