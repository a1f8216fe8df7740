#!/usr/bin/env bash
# Regenerates the Swift of the coordinator–worker protocol (Sources/HounsfieldProtocol/Generated/) from
# Protos/hounsfield/distributed/v1/coordinator.proto.
#
# Run by hand, after editing the .proto, and commit what it writes. Neither CI nor a user's build runs it: building
# the two protoc plugins (protoc-gen-swift from swift-protobuf, protoc-gen-grpc-swift-2 from grpc-swift-protobuf)
# takes 10 minutes or more on two cores, and protoc itself is not a build dependency. So the generated Swift is
# committed, like any source file, and the package builds from a fresh clone with nothing but Swift.
#
#   scripts/generate-protocol.sh                      # plugins built under .build-protoc (git-ignored), once
#   PROTOC_PLUGINS_DIR=/some/dir scripts/generate-protocol.sh   # build or reuse them elsewhere
#
# Needs protoc (Debian: `apt-get install -y protobuf-compiler`; 3.21 is what generated the committed files). The
# plugins come from the same packages and versions as Package.swift names (the offline copies).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PLUGINS="${PROTOC_PLUGINS_DIR:-$ROOT/.build-protoc}"
PROTOS="$ROOT/Protos"
OUT="$ROOT/Sources/HounsfieldProtocol/Generated"

command -v protoc >/dev/null 2>&1 || {
  echo "generate-protocol: protoc not found; install it (Debian: apt-get install -y protobuf-compiler)" >&2
  exit 1
}

# A throwaway package whose only purpose is to build the two plugin executables in release mode.
mkdir -p "$PLUGINS/Sources/Plugins"
cat > "$PLUGINS/Package.swift" <<'SWIFT'
// swift-tools-version:6.1
// Written by scripts/generate-protocol.sh: builds the protoc plugins, nothing else.
import PackageDescription

let package = Package(
    name: "ProtocPlugins",
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
    ],
    targets: [.target(name: "Plugins")]
)
SWIFT
echo "// Nothing: the package exists for its dependencies' executables." > "$PLUGINS/Sources/Plugins/Plugins.swift"

for product in protoc-gen-swift protoc-gen-grpc-swift-2; do
  echo "generate-protocol: building $product (release; slow the first time)" >&2
  swift build -c release --package-path "$PLUGINS" --product "$product"
done
BIN="$(swift build -c release --package-path "$PLUGINS" --show-bin-path)"

mkdir -p "$OUT"
rm -f "$OUT"/*.swift
# Visibility=Public: the coordinator and the worker live in other targets (and other packages may speak the
# protocol). FileNaming=DropPath: flat file names in Generated/. The gRPC plugin writes client and server.
protoc \
  --proto_path="$PROTOS" \
  --plugin=protoc-gen-swift="$BIN/protoc-gen-swift" \
  --plugin=protoc-gen-grpc-swift-2="$BIN/protoc-gen-grpc-swift-2" \
  --swift_out="$OUT" \
  --swift_opt=Visibility=Public,FileNaming=DropPath \
  --grpc-swift-2_out="$OUT" \
  --grpc-swift-2_opt=Visibility=Public,FileNaming=DropPath,Client=true,Server=true \
  hounsfield/distributed/v1/coordinator.proto

echo "generate-protocol: wrote $(cd "$OUT" && ls *.swift | tr '\n' ' ')in ${OUT#"$ROOT"/}; commit them" >&2
