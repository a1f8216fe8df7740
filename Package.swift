// swift-tools-version:6.1
// Hounsfield: raw CT studies (folders of DICOM files) → training-ready tensors.
//
// Layering (see docs/architecture.md): HounsfieldCore has no native imports; CDCMTKShim is the only place that sees
// DCMTK, OpenJPEG and TurboJPEG; HounsfieldDICOM builds series and volumes on top; the umbrella `Hounsfield`
// re-exports the public API; `hounsfield` is the command-line tool.
import PackageDescription

let package = Package(
    name: "Hounsfield",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Hounsfield", targets: ["Hounsfield"]),
        // Scale-out: the coordinator and the worker as a library (and the journal, for `hf-bench journal`).
        .library(name: "HounsfieldDistributed", targets: ["HounsfieldDistributed"]),
        .executable(name: "hounsfield", targets: ["hounsfield"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        // Deque: the pipeline's bounded channel dequeues in O(1).
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // `swift package generate-documentation --target Hounsfield` (DocC; the catalog is Sources/Hounsfield/Hounsfield.docc).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
        // The coordinator's durable journal (SQLite in WAL mode; Debian's libsqlite3-dev underneath).
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // The coordinator–worker protocol (gRPC, issue 18). The Swift generated from Protos/ is committed
        // (scripts/generate-protocol.sh): the protoc plugins are never built here or in CI.
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        // The coordinator's metrics for Prometheus (a registry behind swift-metrics, served by a small NIO endpoint).
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
        // The daemon's HTTP API (`hounsfield serve --http-port`): per-study preprocessing, health and metrics.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // Zip uploads to the daemon's HTTP API.
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    ],
    targets: [
        .target(
            name: "HounsfieldCore",
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        ),
        .systemLibrary(
            name: "COpenJPEG",
            pkgConfig: "libopenjp2",
            providers: [.apt(["libopenjp2-7-dev"])]
        ),
        .target(
            name: "CDCMTKShim",
            dependencies: ["COpenJPEG"],
            cxxSettings: [.define("HAVE_CONFIG_H", to: "0")],
            linkerSettings: [
                // Debian 12's dcmtk.pc is broken (see ../shared/docs/native-deps.md): link by name.
                // dcmnet: the DICOM receiver (hf_receiver.h); plain TCP only, so not dcmtls.
                .linkedLibrary("dcmnet"),
                .linkedLibrary("dcmjpls"), .linkedLibrary("dcmtkcharls"), .linkedLibrary("dcmjpeg"),
                .linkedLibrary("ijg8"), .linkedLibrary("ijg12"), .linkedLibrary("ijg16"),
                .linkedLibrary("dcmimgle"), .linkedLibrary("dcmdata"), .linkedLibrary("oflog"),
                .linkedLibrary("ofstd"), .linkedLibrary("openjp2"), .linkedLibrary("turbojpeg"),
                .linkedLibrary("z"),
            ]
        ),
        .target(
            name: "HounsfieldDICOM",
            dependencies: [
                "HounsfieldCore", "CDCMTKShim",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        ),
        .target(
            // Synthetic CT series (a phantom written as real DICOM files through the DICOM module's writer): test
            // data for the suite, the demo and the benchmarks, never needed to read real studies.
            name: "HounsfieldSynthesis",
            dependencies: ["HounsfieldCore", "HounsfieldDICOM"],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        ),
        .target(
            name: "HounsfieldTransforms",
            dependencies: ["HounsfieldCore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        ),
        .systemLibrary(
            name: "CHDF5",
            pkgConfig: "hdf5-serial",
            providers: [.apt(["libhdf5-dev"])]
        ),
        .target(
            // The only code that sees HDF5: integer handles and status codes (see include/hf_hdf5.h).
            name: "CHDF5Shim",
            dependencies: ["CHDF5"]
        ),
        .target(
            // Shuffle, deflate (level 1 our own run-only encoder, the rest libdeflate), zstd, LZ4 and Blosc 1 (Debian's
            // c-blosc 1.21, the training layout) on whole chunks, thread-safe.
            name: "CCodecs",
            linkerSettings: [.linkedLibrary("deflate"), .linkedLibrary("zstd"), .linkedLibrary("lz4"), .linkedLibrary("blosc")]
        ),
        .target(
            // gzip for `.nii.gz` (libdeflate inflates a single member, zlib the rest): the only C the NIfTI module sees.
            name: "CGzip",
            linkerSettings: [.linkedLibrary("z"), .linkedLibrary("deflate")]
        ),
        .target(
            // NIfTI-1 and NIfTI-2 images and label maps (docs/nifti.md): the header, ITK's sform/qform rule into LPS,
            // label tables, label maps put on an image's grid, and the nnU-Net raw layout.
            name: "HounsfieldNIfTI",
            dependencies: ["HounsfieldCore", "CGzip"],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        ),
        .systemLibrary(
            name: "CTurboJPEG",
            pkgConfig: "libturbojpeg",
            providers: [.apt(["libturbojpeg0-dev"])]
        ),
        .target(
            name: "HounsfieldHDF5",
            dependencies: [
                "HounsfieldCore", "CHDF5Shim", "CCodecs", "CTurboJPEG",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        ),
        .target(
            name: "HounsfieldPipeline",
            dependencies: [
                "HounsfieldCore", "HounsfieldDICOM", "HounsfieldTransforms", "HounsfieldHDF5", "HounsfieldNIfTI",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        ),
        .target(
            // Scale-out (docs/scale-out.md): the coordinator (journal of units, leases and outcomes; worker sessions;
            // the merged manifest) and the worker (a lease source feeding the pipeline service).
            name: "HounsfieldDistributed",
            dependencies: [
                "HounsfieldCore", "HounsfieldHDF5", "HounsfieldNIfTI", "HounsfieldPipeline", "HounsfieldProtocol",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Atomics", package: "swift-atomics"),
            ],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        ),
        .target(
            // The coordinator–worker protocol: the messages and the `Coordinator` service generated from
            // Protos/hounsfield/distributed/v1/coordinator.proto (Generated/, committed), and the token check.
            // Transport-free: the coordinator and the worker choose the transport.
            name: "HounsfieldProtocol",
            dependencies: [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        ),
        .target(
            name: "Hounsfield",
            dependencies: [
                "HounsfieldCore", "HounsfieldDICOM", "HounsfieldSynthesis", "HounsfieldTransforms", "HounsfieldHDF5",
                "HounsfieldPipeline", "HounsfieldNIfTI",
            ]
        ),
        .executableTarget(
            name: "hounsfield",
            dependencies: [
                "Hounsfield", "HounsfieldDistributed", "HounsfieldDaemon",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        ),
        .target(
            // Helpers shared by the test targets: the Python peers that `scripts/test.sh` prepares.
            name: "HounsfieldTestSupport",
            path: "Tests/HounsfieldTestSupport"
        ),
        // The preprocessing daemon (`hounsfield serve`, docs/daemon.md): the intake spool (write, fsync, record, then
        // acknowledge), the DICOM receiver, the watch folder, the HTTP API, and the service that feeds what they
        // take in to the pipeline service.
        .target(
            name: "HounsfieldDaemon",
            dependencies: [
                "HounsfieldCore", "HounsfieldDICOM", "HounsfieldHDF5", "HounsfieldPipeline",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        ),
        .testTarget(
            name: "HounsfieldCoreTests",
            dependencies: ["HounsfieldCore"]
        ),
        .testTarget(
            name: "HounsfieldTransformsTests",
            dependencies: ["HounsfieldTransforms", "Hounsfield", "HounsfieldTestSupport"]
        ),
        .testTarget(
            name: "HounsfieldHDF5Tests",
            dependencies: ["HounsfieldHDF5", "Hounsfield", "HounsfieldTestSupport"]
        ),
        .testTarget(
            name: "HounsfieldPipelineTests",
            dependencies: [
                "HounsfieldPipeline", "Hounsfield", "HounsfieldTestSupport",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "HounsfieldDistributedTests",
            dependencies: ["HounsfieldDistributed", "HounsfieldCore", "Hounsfield", "HounsfieldTestSupport"]
        ),
        .testTarget(
            name: "HounsfieldDaemonTests",
            dependencies: ["HounsfieldDaemon", "Hounsfield", "HounsfieldTestSupport"]
        ),
        .testTarget(
            name: "HounsfieldProtocolTests",
            dependencies: [
                "HounsfieldProtocol",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
            ]
        ),
        .testTarget(
            name: "HounsfieldNIfTITests",
            dependencies: ["HounsfieldNIfTI", "HounsfieldCore", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .testTarget(
            name: "HounsfieldDICOMTests",
            dependencies: [
                "HounsfieldDICOM", "Hounsfield",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6],
    cxxLanguageStandard: .cxx17
)
