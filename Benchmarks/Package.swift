// swift-tools-version:6.1
// Hounsfield's benchmarks, in their own package so `swift test` never builds ordo-one/benchmark.
//
//   swift package --package-path Benchmarks benchmark          # hot paths: discovery, decode (ordo-one)
//   Benchmarks/peers/run.sh                                    # side by side with SimpleITK
import Foundation
import PackageDescription

// SwiftPM names a path dependency after its folder, which is whatever the clone was called: derive it.
let hounsfield = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .lastPathComponent.lowercased()

let package = Package(
    name: "HounsfieldBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .target(
            name: "BenchmarkInputs",
            dependencies: [.product(name: "Hounsfield", package: hounsfield)],
            path: "Sources/BenchmarkInputs"
        ),
        .executableTarget(
            name: "hf-bench",
            dependencies: [
                "BenchmarkInputs",
                .product(name: "Hounsfield", package: hounsfield),
                .product(name: "HounsfieldDistributed", package: hounsfield),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/hf-bench"
        ),
        .executableTarget(
            name: "HounsfieldBenchmarks",
            dependencies: [
                "BenchmarkInputs",
                .product(name: "Hounsfield", package: hounsfield),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/HounsfieldBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
