package cache

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/portico-gw/portico/catalog"
	"github.com/portico-gw/portico/config"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/pipeline"
	"google.golang.org/protobuf/types/descriptorpb"
)

// Build is the response cache policy kind: for each method with
// apis[].methods[].cache, a unary interceptor that serves its answers from
// the store (the top-level cache: local or redis). Nil when no method
// caches. The store lives in the pool, so a reload keeps the answers when
// the store's settings are unchanged.
func Build(env pipeline.Env) (pipeline.Policy, error) {
	rules := map[*catalog.Method]*rule{}
	var errs config.Errors
	for _, m := range env.Catalog.MethodList() {
		seen := ""
		for _, o := range m.Overrides() {
			c := o.Settings.GetCache()
			if c == nil {
				continue
			}
			where := o.Where + ".cache"
			if seen != "" {
				errs = append(errs, &config.Error{Field: where, Message: fmt.Sprintf("%s is cached by %s already", m.Desc().FullName(), seen)})
				continue
			}
			seen = where
			r, err := newRule(m, c, where)
			if err != nil {
				errs = append(errs, err...)
				continue
			}
			rules[m] = r
		}
	}
	s, serr := openStore(env, len(rules) > 0 && len(errs) == 0)
	errs = append(errs, serr...)
	if len(errs) > 0 {
		return nil, errs
	}
	if len(rules) == 0 && env.Config.Config.GetCache() != nil {
		env.Warn(&config.Error{Field: "cache", Message: "no method is cached (apis[].methods[].cache): the store is not used"})
	}
	if s == nil {
		return nil, nil
	}
	return newCache(s, rules, env.Catalog, env.Logger), nil
}

// newRule checks one method's cache settings. Only answers that do not
// depend on a side effect may be kept: the method must be unary, and
// either marked idempotency_level = NO_SIDE_EFFECTS or bound to GET only
// (every HTTP binding a GET). A POST binding beside a GET one is refused:
// the same method would be cached whichever binding called it.
func newRule(m *catalog.Method, c *configv1.MethodCache, where string) (*rule, config.Errors) {
	var errs config.Errors
	name := m.Desc().FullName()
	if m.Streaming() {
		errs = append(errs, &config.Error{Field: where, Message: fmt.Sprintf("%s streams: only unary methods are cached", name)})
	} else if !readOnly(m) {
		errs = append(errs, &config.Error{Field: where, Message: fmt.Sprintf("%s may have side effects: only methods bound to GET alone, or marked idempotency_level = NO_SIDE_EFFECTS, are cached", name)})
	}
	r := &rule{
		prefix:    m.FullMethod() + "|",
		ttl:       int64(c.GetTtl().AsDuration()),
		swr:       int64(c.GetStaleWhileRevalidate().AsDuration()),
		principal: !c.GetShared(),
	}
	seen := map[string]bool{}
	for i, part := range c.GetKey() {
		at := fmt.Sprintf("%s.key[%d]", where, i)
		name, ok := keyPart(part)
		switch {
		case !ok:
			errs = append(errs, &config.Error{Field: at, Message: fmt.Sprintf("%q is not a key part: principal or header:<name>", part)})
		case seen[name]:
			errs = append(errs, &config.Error{Field: at, Message: fmt.Sprintf("%q is listed twice", part)})
		case name == "principal" && c.GetShared():
			errs = append(errs, &config.Error{Field: at, Message: "principal in the key of a shared cache: drop one of them"})
		case name != "principal":
			r.headers = append(r.headers, strings.TrimPrefix(name, "header:"))
		}
		seen[name] = true
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return r, nil
}

// keyPart reads one key part: principal, or header:<name> (a valid
// header name, returned lower-cased).
func keyPart(s string) (string, bool) {
	if s == "principal" {
		return s, true
	}
	h, ok := strings.CutPrefix(s, "header:")
	if !ok || h == "" {
		return "", false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return "", false
		}
	}
	return "header:" + strings.ToLower(h), true
}

// readOnly reports whether a method's answers may be cached: marked
// NO_SIDE_EFFECTS, or bound to GET only.
func readOnly(m *catalog.Method) bool {
	if opts, ok := m.Desc().Options().(*descriptorpb.MethodOptions); ok && opts != nil &&
		opts.GetIdempotencyLevel() == descriptorpb.MethodOptions_NO_SIDE_EFFECTS {
		return true
	}
	bs := m.Bindings()
	for _, b := range bs {
		if b.HTTPMethod != http.MethodGet {
			return false
		}
	}
	return len(bs) > 0
}
