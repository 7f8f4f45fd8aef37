#!/bin/sh
# Writes the modulemap the XCFramework ships: the generated one, plus the Apple frameworks the
# core's static library needs at link time (rustls-platform-verifier and getrandom call Security
# and CoreFoundation), so an app that imports the module links them without listing them.
#
#   apple-modulemap.sh GENERATED_MODULEMAP OUT
#
# build-xcframework.sh runs it on macOS; `cargo xtask test` runs it on Linux and has Swift's
# clang parse the result (xtask/src/swift.rs).
set -eu
awk '
  /^}/ && !done { print "    link framework \"Security\""; print "    link framework \"CoreFoundation\""; done = 1 }
  { print }
  END { if (!done) exit 1 }
' "$1" > "$2"
