#!/usr/bin/env bash
# Builds SatchelCore.xcframework (static libraries for devices, the simulator and macOS) and
# generates the Swift bindings into Sources/SatchelFFI/. Runs on macOS with Xcode and rustup.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out="$root/ios"

targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios aarch64-apple-darwin)
rustup target add "${targets[@]}"
# release-symbols: the release code with line tables, so the app's dSYM symbolicates the core's
# frames; Xcode strips the app binary that ships (docs/mobile.md, "Crash symbols").
for target in "${targets[@]}"; do
  cargo rustc --profile release-symbols -p satchel-core --lib --crate-type staticlib --target "$target"
done

# Bindings from an unstripped host build: bindgen reads metadata that stripping removes.
cargo build --profile release-unstripped -p satchel-core
host_lib="target/release-unstripped/libsatchel_core.dylib"
gen="$root/target/bindings/swift"
rm -rf "$gen" && mkdir -p "$gen"
cargo run -p uniffi-bindgen -- generate --library "$host_lib" --language swift --no-format --out-dir "$gen"

mkdir -p "$out/Sources/SatchelFFI"
cp "$gen/SatchelFFI.swift" "$out/Sources/SatchelFFI/"
headers="$root/target/bindings/swift-headers"
rm -rf "$headers" && mkdir -p "$headers"
cp "$gen/satchel_coreFFI.h" "$headers/"
# With the Apple frameworks the static library links against.
sh "$out/apple-modulemap.sh" "$gen/satchel_coreFFI.modulemap" "$headers/module.modulemap"

# One library per platform: fuse the two simulator architectures.
sim="$root/target/ios-sim/libsatchel_core.a"
mkdir -p "$(dirname "$sim")"
lipo -create \
  target/aarch64-apple-ios-sim/release-symbols/libsatchel_core.a \
  target/x86_64-apple-ios/release-symbols/libsatchel_core.a \
  -output "$sim"

rm -rf "$out/SatchelCore.xcframework"
xcodebuild -create-xcframework \
  -library target/aarch64-apple-ios/release-symbols/libsatchel_core.a -headers "$headers" \
  -library "$sim" -headers "$headers" \
  -library target/aarch64-apple-darwin/release-symbols/libsatchel_core.a -headers "$headers" \
  -output "$out/SatchelCore.xcframework"
echo "built $out/SatchelCore.xcframework"
