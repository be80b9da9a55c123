#!/usr/bin/env bash
# Copies the third-party .proto files Portico's protos import (google.api.http,
# google.api.httpbody, google.rpc.*, buf.validate) from Go modules in the module
# cache into third_party/ (git-ignored), which buf.yaml lists as a second module.
# The Buf Schema Registry is not reachable from our machines; the Go module
# proxy is, and these modules are pinned here so the copy is reproducible.
set -euo pipefail
cd "$(dirname "$0")/.."

googleapis_mod=github.com/grpc-ecosystem/grpc-gateway@v1.16.0
protovalidate_mod=github.com/bufbuild/protovalidate@v1.2.2

dir_of() { go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'; }

gapi=$(dir_of "$googleapis_mod")/third_party/googleapis
pv=$(dir_of "$protovalidate_mod")/proto/protovalidate

rm -rf third_party
mkdir -p third_party/google/api third_party/google/rpc third_party/buf/validate
cp "$gapi"/google/api/{annotations,http,httpbody}.proto third_party/google/api/
cp "$gapi"/google/rpc/{code,error_details,status}.proto third_party/google/rpc/
cp "$pv"/buf/validate/validate.proto third_party/buf/validate/
chmod -R u+w third_party
