package call

import (
	"errors"

	"google.golang.org/grpc/status"
)

// Whose status is it? The gateway shapes its own refusals
// (gateway_responses) but never a backend's answer, so a status a
// backend sent is marked by the integration that received it
// (FromBackend); every status without the mark is the gateway's own:
// routing, bad input, policies, limits, guards, timeouts and backends it
// could not reach. Marking the few places that receive a backend's
// answer, rather than the many that refuse, means a refusal added later
// is shaped without anyone remembering to mark it.

// FromBackend marks err, a status a backend sent, as the backend's own.
// It stays the same status (status.FromError, HTTPStatusOf and errors.Is
// see through it). Nil stays nil; an error that is not a status is
// returned as it is.
func FromBackend(err error) error {
	if err == nil || IsFromBackend(err) {
		return err
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	return &backendError{err: err, st: st}
}

// IsFromBackend reports whether err is a status a backend sent
// (FromBackend).
func IsFromBackend(err error) bool {
	var be *backendError
	return errors.As(err, &be)
}

// backendError is a backend's status, marked.
type backendError struct {
	err error
	st  *status.Status
}

func (e *backendError) Error() string              { return e.err.Error() }
func (e *backendError) Unwrap() error              { return e.err }
func (e *backendError) GRPCStatus() *status.Status { return e.st }
