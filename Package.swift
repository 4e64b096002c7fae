// swift-tools-version: 6.0
import PackageDescription

// The engine is numeric code: it is compiled with optimisation and a CPU target even in
// debug builds, so `swift test` and `swift build` are not 10-50x slower than release.
let engineFlags: [SwiftSetting] = [
    .unsafeFlags(["-O", "-target-cpu", "native"]),
]

let package = Package(
    name: "depthscope",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "depthscope", targets: ["depthscope"]),
        .library(name: "Engine", targets: ["Engine"]),
        .library(name: "Workbench", targets: ["Workbench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CNcurses",
            providers: [.apt(["libncurses-dev"])]
        ),
        // q8_0 integer kernels: C for the CPU's int8 dot-product instructions (selected at
        // run time by cpu feature checks, with a portable fallback); optimised in debug too.
        .target(
            name: "CKernels",
            cSettings: [.unsafeFlags(["-O3"])]
        ),
        .target(
            name: "Engine",
            dependencies: ["CKernels"],
            swiftSettings: engineFlags
        ),
        // The workbench redraws up to 30 times a second while the engine generates: it is
        // optimised in debug builds too, so `swift run depthscope` does not steal the CPU.
        .target(
            name: "Workbench",
            dependencies: ["Engine", "CNcurses"],
            swiftSettings: [.unsafeFlags(["-O"])]
        ),
        .executableTarget(
            name: "depthscope",
            dependencies: [
                "Engine",
                "Workbench",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Fixtures are read in place (found via #filePath), not copied as bundle resources.
        .testTarget(name: "EngineTests", dependencies: ["Engine"], exclude: ["Fixtures"]),
        .testTarget(name: "WorkbenchTests", dependencies: ["Workbench", "Engine"],
                    exclude: ["Snapshots", "README.md"]),
    ],
    swiftLanguageModes: [.v6]
)
