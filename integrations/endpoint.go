package integrations

// Endpoint is one endpoint of an integration (a target, a URL) as the
// admin API shows it.
type Endpoint struct {
	// Name is the target or URL as configured.
	Name string
	// Circuit is its circuit breaker's state: closed, half_open or open;
	// empty without a breaker.
	Circuit string
	// State is, for an http integration's URL, healthy, ejected (outlier
	// ejection, for a while) or unhealthy (failing its health check);
	// empty for endpoints judged by no one.
	State string
}

// Endpoints is implemented by the backends whose endpoints have a state
// of their own (a circuit breaker): what the admin API's integration
// health shows.
type Endpoints interface {
	Endpoints() []Endpoint
}
