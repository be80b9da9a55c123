package call

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestFromBackend(t *testing.T) {
	st := status.New(codes.NotFound, "no such book")
	marked := FromBackend(st.Err())
	if !IsFromBackend(marked) {
		t.Fatalf("IsFromBackend(FromBackend(err)) = false, want true")
	}
	if IsFromBackend(st.Err()) {
		t.Errorf("IsFromBackend(unmarked) = true, want false")
	}
	got, ok := status.FromError(marked)
	if !ok || got.Code() != codes.NotFound || got.Message() != "no such book" {
		t.Errorf("status.FromError(marked) = %v, %v; want NOT_FOUND %q", got, ok, "no such book")
	}
	// Wrapped further, the mark and the status survive.
	wrapped := fmt.Errorf("calling: %w", marked)
	if !IsFromBackend(wrapped) {
		t.Errorf("IsFromBackend(wrapped) = false, want true")
	}
	// A status with an HTTP status keeps it.
	withHTTP := FromBackend(WithHTTPStatus(http.StatusGatewayTimeout, status.New(codes.DeadlineExceeded, "slow")))
	if code, _, ok := HTTPStatusOf(withHTTP); !ok || code != http.StatusGatewayTimeout {
		t.Errorf("HTTPStatusOf(marked) = %d, %v; want %d, true", code, ok, http.StatusGatewayTimeout)
	}
	if FromBackend(nil) != nil {
		t.Errorf("FromBackend(nil) != nil")
	}
	plain := errors.New("not a status")
	if got := FromBackend(plain); got != plain || IsFromBackend(got) {
		t.Errorf("FromBackend(non-status) = %v (marked %v), want it unchanged", got, IsFromBackend(got))
	}
	if again := FromBackend(marked); again != marked {
		t.Errorf("FromBackend(marked) wrapped again, want it unchanged")
	}
}
