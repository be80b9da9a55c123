package grpcbackend

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/portico-gw/portico/catalog"
	configv1 "github.com/portico-gw/portico/gen/portico/config/v1"
	"github.com/portico-gw/portico/integrations/outlier"
	"google.golang.org/grpc/balancer"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/descriptorpb"

	// Client-side health checking (healthCheckConfig) is grpc-go's
	// grpc.health.v1 client, registered by this package.
	_ "google.golang.org/grpc/health"
)

// The connection's behaviour — load balancing, health checking, outlier
// ejection, retries — is grpc-go's own, driven by the JSON service config
// built here from the integration's config (gRFC A2, A6, A17, A50). The
// backend's own service config (DNS TXT records) is ignored: the gateway's
// config decides.

// outlierPolicy is the name of grpc-go's outlier ejection balancer.
const outlierPolicy = "outlier_detection_experimental"

// lbPolicy returns the load-balancing policy g asks for. Unset means
// pick_first, or round_robin when health checking or outlier ejection is
// on (both judge each endpoint, which pick_first does not spread calls
// over).
func lbPolicy(g *configv1.GrpcIntegration) (string, error) {
	lb := g.GetLoadBalancing()
	if lb == "" {
		lb = "pick_first"
		if g.GetHealthCheck() || g.GetOutlierDetection() != nil {
			lb = "round_robin"
		}
	}
	if lb == "pick_first" && g.GetHealthCheck() {
		// grpc-go checks the health of each endpoint only under a policy
		// that spreads calls over endpoints (gRFC A61).
		return "", fmt.Errorf("health_check needs load_balancing: round_robin (grpc-go checks endpoint health only under round_robin)")
	}
	return lb, nil
}

// parseCodes reads gRPC code names (UNAVAILABLE, RESOURCE_EXHAUSTED) as
// grpc-go's service config does.
func parseCodes(field string, names []string) ([]codes.Code, error) {
	out := make([]codes.Code, 0, len(names))
	for _, n := range names {
		var c codes.Code
		if err := c.UnmarshalJSON([]byte(strconv.Quote(strings.ToUpper(strings.TrimSpace(n))))); err != nil {
			return nil, fmt.Errorf("%s: %q is not a gRPC code name (e.g. UNAVAILABLE)", field, n)
		}
		if c == codes.OK {
			return nil, fmt.Errorf("%s: OK is not a failure", field)
		}
		out = append(out, c)
	}
	return out, nil
}

// jsonDuration writes d as the service config's duration string ("0.1s").
func jsonDuration(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
}

// serviceConfig builds the JSON service config for g. retryMethods are
// the gRPC paths ("/pkg.Service/Method") retries apply to; nil with
// retry.all_methods (every method).
func serviceConfig(g *configv1.GrpcIntegration, retryMethods []string) (string, error) {
	lb, err := lbPolicy(g)
	if err != nil {
		return "", err
	}
	sc := map[string]any{}
	child := []any{map[string]any{lb: map[string]any{}}}
	if od := g.GetOutlierDetection(); od != nil {
		if balancer.Get(outlierPolicy) == nil {
			return "", fmt.Errorf("outlier_detection: grpc-go's %s balancer is not linked into this build", outlierPolicy)
		}
		os := outlier.From(od)
		child = []any{map[string]any{outlierPolicy: map[string]any{
			"interval":         jsonDuration(os.Interval),
			"baseEjectionTime": jsonDuration(os.BaseEjection),
			// A gateway often has a handful of endpoints per backend:
			// judge from two on (grpc-go's default is five), and let up
			// to half of them be ejected at once.
			"maxEjectionPercent": outlier.MaxEjectionPercent,
			"failurePercentageEjection": map[string]any{
				"threshold":             os.FailurePercentage,
				"enforcementPercentage": 100,
				"minimumHosts":          2,
				"requestVolume":         os.MinimumRequests,
			},
			"childPolicy": child,
		}}}
	}
	sc["loadBalancingConfig"] = child
	if g.GetHealthCheck() {
		sc["healthCheckConfig"] = map[string]any{"serviceName": ""}
	}
	if r := g.GetRetry(); r != nil {
		if _, err := parseCodes("retry.codes", r.GetCodes()); err != nil {
			return "", err
		}
		names := make([]string, len(r.GetCodes()))
		for i, n := range r.GetCodes() {
			names[i] = strings.ToUpper(strings.TrimSpace(n))
		}
		initial, maxBackoff := 100*time.Millisecond, time.Second
		if r.InitialBackoff != nil {
			initial = r.GetInitialBackoff().AsDuration()
		}
		if r.MaxBackoff != nil {
			maxBackoff = r.GetMaxBackoff().AsDuration()
		}
		if maxBackoff < initial {
			return "", fmt.Errorf("retry.max_backoff (%v) is shorter than retry.initial_backoff (%v)", maxBackoff, initial)
		}
		policy := map[string]any{
			"maxAttempts":          r.GetMaxAttempts(),
			"initialBackoff":       jsonDuration(initial),
			"maxBackoff":           jsonDuration(maxBackoff),
			"backoffMultiplier":    2,
			"retryableStatusCodes": names,
		}
		var name []any
		if retryMethods == nil {
			name = []any{map[string]any{}} // the default: every method
		} else {
			sorted := append([]string(nil), retryMethods...)
			sort.Strings(sorted)
			for _, full := range sorted {
				svc, method, ok := splitFullMethod(full)
				if !ok {
					return "", fmt.Errorf("bad method path %q", full)
				}
				name = append(name, map[string]any{"service": svc, "method": method})
			}
		}
		if len(name) > 0 {
			sc["methodConfig"] = []any{map[string]any{"name": name, "retryPolicy": policy}}
		}
	}
	b, err := json.Marshal(sc)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// splitFullMethod splits "/pkg.Service/Method".
func splitFullMethod(full string) (service, method string, ok bool) {
	if !strings.HasPrefix(full, "/") {
		return "", "", false
	}
	i := strings.LastIndexByte(full, '/')
	if i <= 1 || i == len(full)-1 {
		return "", "", false
	}
	return full[1:i], full[i+1:], true
}

// Idempotent reports whether m may be sent more than once: its
// idempotency_level says NO_SIDE_EFFECTS or IDEMPOTENT, or it is bound to
// GET (HTTP says GET has no side effects).
func Idempotent(m *catalog.Method) bool {
	if opts, ok := m.Desc().Options().(*descriptorpb.MethodOptions); ok && opts != nil {
		switch opts.GetIdempotencyLevel() {
		case descriptorpb.MethodOptions_NO_SIDE_EFFECTS, descriptorpb.MethodOptions_IDEMPOTENT:
			return true
		}
	}
	for _, b := range m.Bindings() {
		if b.HTTPMethod == "GET" {
			return true
		}
	}
	return false
}
