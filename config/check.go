package config

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
)

// check records the problems that the schema's rules cannot express, those
// that relate one field to another. Values the rules already reject (an
// empty name, say) are skipped here, so each problem is reported once.
func check(cfg *configv1.Config, errs *errorList) {
	checkListen(cfg.GetListen(), errs)
	known := checkIntegrations(cfg.GetIntegrations(), errs)
	checkApis(cfg.GetApis(), known, errs)
}

// checkListen checks that each listen address is host:port with a numeric
// port, and that no two doors share an address.
func checkListen(l *configv1.Listen, errs *errorList) {
	seen := map[string]string{} // address -> field
	for _, a := range []struct{ field, addr string }{
		{"listen.http", l.GetHttp()},
		{"listen.grpc", l.GetGrpc()},
		{"listen.admin", l.GetAdmin()},
	} {
		if a.addr == "" {
			continue
		}
		if msg := checkAddress(a.addr); msg != "" {
			errs.add(a.field, msg)
			continue
		}
		if _, port, _ := net.SplitHostPort(a.addr); port == "0" {
			continue // each ":0" listener gets a port of its own
		}
		if first, ok := seen[a.addr]; ok {
			errs.add(a.field, fmt.Sprintf("address %q is already used by %s", a.addr, first))
			continue
		}
		seen[a.addr] = a.field
	}
}

// checkAddress returns what is wrong with a listen address, or "".
func checkAddress(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		msg := err.Error()
		if ae, ok := err.(*net.AddrError); ok {
			msg = ae.Err
		}
		return fmt.Sprintf("%q is not host:port (%s)", addr, msg)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Sprintf("%q is not host:port (port %q is not a number from 0 to 65535)", addr, port)
	}
	return ""
}

// checkIntegrations checks that integration names are unique, and returns
// the set of names.
func checkIntegrations(ints []*configv1.Integration, errs *errorList) map[string]bool {
	known := map[string]bool{}
	for i, in := range ints {
		name := in.GetName()
		if g := in.GetGrpc(); g != nil {
			switch {
			case g.GetTarget() == "" && len(g.GetTargets()) == 0:
				errs.add(fmt.Sprintf("integrations[%d].grpc.target", i), "is required (or targets)")
			case g.GetTarget() != "" && len(g.GetTargets()) > 0:
				errs.add(fmt.Sprintf("integrations[%d].grpc", i), "target and targets are exclusive: set one")
			}
		}
		if name == "" {
			continue
		}
		if known[name] {
			errs.add(fmt.Sprintf("integrations[%d].name", i), fmt.Sprintf("duplicate integration %q", name))
			continue
		}
		known[name] = true
	}
	return known
}

// checkApis checks that each api names a known integration, and that each
// service is exposed by one api only.
func checkApis(apis []*configv1.Api, known map[string]bool, errs *errorList) {
	names := make([]string, 0, len(known))
	for n := range known {
		names = append(names, n)
	}
	sort.Strings(names)
	knownList := "none are defined"
	if len(names) > 0 {
		knownList = "known: " + strings.Join(names, ", ")
	}
	services := map[string]string{} // service -> field where first listed
	for i, api := range apis {
		if in := api.GetIntegration(); in != "" && !known[in] {
			errs.add(fmt.Sprintf("apis[%d].integration", i), fmt.Sprintf("unknown integration %q (%s)", in, knownList))
		}
		for j, s := range api.GetServices() {
			if s == "" {
				continue
			}
			field := fmt.Sprintf("apis[%d].services[%d]", i, j)
			if first, ok := services[s]; ok {
				errs.add(field, fmt.Sprintf("service %q is already listed at %s", s, first))
				continue
			}
			services[s] = field
		}
	}
}
