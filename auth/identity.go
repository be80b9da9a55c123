package auth

import (
	"context"

	"github.com/portico-gw/portico/call"
	"google.golang.org/grpc/metadata"
)

// withIdentity returns ctx whose incoming metadata — what the backend
// receives — is a copy of the call's without the credentials the gate
// consumed (creds, nil when they are forwarded) and with the caller's
// identity (x-portico-principal, forwarded claims) and an authorizer's
// headers set. Both doors have already dropped these names from what the
// client sent, so they cannot be forged; set replaces, never appends, and
// a name set or removed goes in every spelling a backend reads as the same
// name (call.HeaderName: X_Authz for x-authz).
func withIdentity(ctx context.Context, id *call.Identity, adds [][2]string, removes []string, creds *credentials) context.Context {
	if (id == nil || len(id.Metadata) == 0) && len(adds) == 0 && len(removes) == 0 && creds.empty() {
		return ctx
	}
	// FromIncomingContext returns a copy: it is ours to change.
	md, _ := metadata.FromIncomingContext(ctx)
	if md == nil {
		md = metadata.MD{}
	}
	info := call.FromContext(ctx)
	for _, k := range removes {
		deleteSpellings(md, k)
		if info != nil {
			info.SetBackendHeader(k, nil)
		}
	}
	if !creds.empty() {
		creds.stripMetadata(md)
		if info != nil {
			info.Withhold(creds.withheld())
		}
	}
	if id != nil {
		for k, v := range id.Metadata {
			deleteSpellings(md, k)
			md[k] = []string{v}
		}
	}
	for _, h := range adds {
		deleteSpellings(md, h[0])
		md[h[0]] = []string{h[1]}
		if info != nil {
			info.SetBackendHeader(h[0], md[h[0]])
		}
	}
	return metadata.NewIncomingContext(ctx, md)
}

// deleteSpellings deletes k from md in every spelling.
func deleteSpellings(md metadata.MD, k string) {
	n := call.HeaderName(k)
	for old := range md {
		if call.HeaderName(old) == n {
			delete(md, old)
		}
	}
}
