// Package params binds the textual parameters of an HTTP request — URL path
// variables and query parameters — onto a request message, working purely
// from protoreflect descriptors so that generated messages and dynamicpb
// messages (known only from a descriptor set loaded at run time) behave
// identically.
//
// It follows grpc-gateway's default query parser (runtime.DefaultQueryParser)
// for keys and value syntax, but never consults protoregistry.GlobalTypes and
// keeps no package-level state. Resolve a field path once, when the route is
// built; call Set for each path variable and Query for the query string (or
// Form, for a form body with the query) on every request. A Limits bounds
// what one request's parameters can cost — their number, the depth of a
// field path (under the recursion limit, as for a JSON body), the JSON of a
// Struct or Value — and Values estimates it for a door's budget; the
// package-level Query and Set use the default Limits. All errors are gRPC
// status errors with
// codes.InvalidArgument whose message names the field and the offending
// value; on error the message may have been partly modified and should be
// discarded.
//
// # Value syntax
//
// A value, already percent-decoded, is read according to the field's kind:
//
//   - bool: as strconv.ParseBool ("true", "false", "1", "0", "t", "F", …);
//   - int32, int64, uint32, uint64 and their sint, fixed and sfixed
//     variants: a decimal integer in range;
//   - float, double: a decimal number, or exactly "NaN", "Infinity" or
//     "-Infinity", as in the proto3 JSON mapping (no hexadecimal, no "_",
//     no "inf"); a value out of range is an error;
//   - string: any valid UTF-8;
//   - bytes: base64, standard or URL-safe alphabet, with or without padding;
//   - enum: a value name ("GENRE_FICTION") or number; a number that names no
//     value is accepted for an open (proto3) enum and refused for a closed
//     (proto2) one;
//   - google.protobuf.Timestamp: RFC 3339 ("2024-05-01T12:00:00.5Z");
//   - google.protobuf.Duration: Go duration syntax, which includes the JSON
//     form ("1.5s", "90m", "-2h45m");
//   - google.protobuf.FieldMask: comma-separated paths, kept as given;
//   - the wrappers (DoubleValue … BytesValue): the wrapped scalar's syntax;
//   - google.protobuf.Struct, Value and ListValue: JSON text;
//   - google.protobuf.Empty: "" or "{}".
//
// Any other message-typed field cannot be set from a single value.
package params
