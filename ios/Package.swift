// swift-tools-version:5.9
// Satchel for iOS: the Rust core, the generated UniFFI bindings, and the hand-written shell.
//
// One package for both worlds, with the same Swift sources:
// - Apple platforms: the core as SatchelCore.xcframework. Run ./build-xcframework.sh on macOS
//   first; it fills SatchelCore.xcframework and Sources/SatchelFFI/.
// - Linux (`cargo xtask swift`, part of `cargo xtask test`): the host build of the core as a
//   shared library, its generated C header and modulemap as a system library. The test command
//   fills Sources/SatchelFFI/ and Sources/SatchelFFIHeaders/ and passes the library's folder to
//   the linker (-L and an rpath).
import PackageDescription

#if os(Linux)
let coreTargets: [Target] = [
    .systemLibrary(name: "SatchelFFIHeaders", path: "Sources/SatchelFFIHeaders"),
    .target(
        name: "SatchelFFI", dependencies: ["SatchelFFIHeaders"], path: "Sources/SatchelFFI",
        linkerSettings: [.linkedLibrary("satchel_core")]),
]
#else
let coreTargets: [Target] = [
    .binaryTarget(name: "SatchelCore", path: "SatchelCore.xcframework"),
    // The core's static library calls Security and CoreFoundation (TLS roots, random numbers);
    // the XCFramework's modulemap links them too (apple-modulemap.sh).
    .target(
        name: "SatchelFFI", dependencies: ["SatchelCore"], path: "Sources/SatchelFFI",
        linkerSettings: [.linkedFramework("Security"), .linkedFramework("CoreFoundation")]),
]
#endif

let package = Package(
    name: "Satchel",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "Satchel", targets: ["Satchel"]),
    ],
    targets: coreTargets + [
        .target(name: "Satchel", dependencies: ["SatchelFFI"], path: "Sources/Satchel"),
        .testTarget(name: "SatchelTests", dependencies: ["Satchel"], path: "Tests/SatchelTests"),
    ]
)
