// swift-tools-version:5.9
// Satchel for iOS: the Rust core as an XCFramework, the generated UniFFI bindings, and the
// hand-written shell. Run ./build-xcframework.sh on macOS first; it fills SatchelCore.xcframework
// and Sources/SatchelFFI/.
import PackageDescription

let package = Package(
    name: "Satchel",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "Satchel", targets: ["Satchel"]),
    ],
    targets: [
        .binaryTarget(name: "SatchelCore", path: "SatchelCore.xcframework"),
        .target(name: "SatchelFFI", dependencies: ["SatchelCore"], path: "Sources/SatchelFFI"),
        .target(name: "Satchel", dependencies: ["SatchelFFI"], path: "Sources/Satchel"),
        .testTarget(name: "SatchelTests", dependencies: ["Satchel"], path: "Tests/SatchelTests"),
    ]
)
