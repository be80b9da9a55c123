package call

import (
	"strings"

	"google.golang.org/grpc/metadata"
)

// Incoming is the metadata a call of the gRPC door, or of the Connect and
// gRPC-Web protocols (md: their headers as metadata), carries on into the
// pipeline and to the backend: what the client sent, without the names the REST
// door reserves for itself (grpcgateway-*, Portico's own x-portico-*, any
// reserved identity header, in any spelling a backend reads as the same
// name: x_portico_principal) so a gRPC client cannot forge them; with
// x-forwarded-for carrying the real peer appended and x-forwarded-host the
// authority (a client's x-forwarded-host, or another spelling of either,
// is dropped). Policies read the unfiltered metadata from the call's Info.
func Incoming(info *Info, md metadata.MD, reserved func(string) bool) metadata.MD {
	out := make(metadata.MD, len(md)+2)
	for k, vs := range md {
		switch n := HeaderName(k); {
		case strings.HasPrefix(k, "grpcgateway-"), Reserved(n, reserved),
			n == "x-forwarded-for", n == "x-forwarded-host":
			continue
		}
		out[k] = vs
	}
	xff := md["x-forwarded-for"]
	if info.Peer.IsValid() {
		xff = append(xff[:len(xff):len(xff)], info.Peer.Addr().String())
	}
	if len(xff) > 0 {
		out["x-forwarded-for"] = []string{strings.Join(xff, ", ")}
	}
	if info.Authority != "" {
		out["x-forwarded-host"] = []string{info.Authority}
	}
	return out
}
