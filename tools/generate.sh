#!/usr/bin/env bash
# Regenerates everything derived from proto/: gen/ (Go, gRPC, grpc-gateway
# reference handlers, OpenAPI) and the example descriptor set. buf and the
# protoc plugins run as Go tools pinned in tools/go.mod.
set -euo pipefail
cd "$(dirname "$0")/.."
./tools/third_party_protos.sh
buf() { go tool -modfile=tools/go.mod buf "$@"; }
buf lint
rm -rf gen
buf generate
buf build --exclude-source-info --path proto/example/bookstore -o examples/gateway/apis/bookstore.binpb
