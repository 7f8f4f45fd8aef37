#!/bin/sh
# Splits a built libsatchel_core.so into the library that ships (stripped) and its debug info
# (kept for crash symbolication: Play Console's native debug symbols). Both keep the linker's
# build-id, which is how a crash report finds its symbols.
#
#   split-debug-info.sh OBJCOPY LIBRARY STRIPPED_OUT DEBUG_OUT
#
# OBJCOPY is the NDK's llvm-objcopy in the Gradle build, binutils' objcopy in `cargo xtask test`,
# which checks the result (xtask/src/native_symbols.rs).
set -eu
objcopy=$1
library=$2
stripped=$3
debug=$4
mkdir -p "$(dirname "$stripped")" "$(dirname "$debug")"
"$objcopy" --only-keep-debug "$library" "$debug"
# --strip-all keeps .dynsym: the exported functions JNA looks up by name.
"$objcopy" --strip-all --add-gnu-debuglink="$debug" "$library" "$stripped"
