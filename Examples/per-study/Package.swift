// swift-tools-version:6.1
// An inference call built on Hounsfield's library product only, as a service's own package would be.
// Build and run from the repository root:
//   swift run --package-path Examples/per-study per-study STUDY-FOLDER
import PackageDescription

let package = Package(
    name: "per-study",
    // The same floor as Hounsfield's: a lower one would not resolve against it on macOS.
    platforms: [.macOS(.v15)],
    dependencies: [
        // The repository itself, by path, so the example always builds against the code beside it. `name:` gives it
        // the name the products refer to; without it the package would be named after its folder (`main`, or
        // whatever a clone is called).
        .package(name: "Hounsfield", path: "../.."),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .executableTarget(
            name: "per-study",
            dependencies: [
                .product(name: "Hounsfield", package: "Hounsfield"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
