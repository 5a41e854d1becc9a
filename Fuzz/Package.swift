// swift-tools-version:6.0
// Fuzz targets for every parser of untrusted bytes: IDX, gzip, CIFAR, .npy, PNG/JPEG, safetensors and
// the checkpoint state. Built with libFuzzer and AddressSanitizer by Fuzz/run.sh (linked by lld; each target's
// main hands its callback to libFuzzer's LLVMFuzzerRunDriver), not by `swift build` of the main package.
import PackageDescription

let mode: [SwiftSetting] = [.swiftLanguageMode(.v5)]
let targets = ["FuzzIDX", "FuzzGzip", "FuzzCIFAR", "FuzzNPY", "FuzzImage", "FuzzSafetensors", "FuzzCheckpointState"]

let package = Package(
    name: "DeepClusterFuzz",
    dependencies: [.package(name: "DeepCluster", path: "..")],
    targets: [.target(name: "FuzzDriver", path: "Sources/FuzzDriver", swiftSettings: mode)] + targets.map { name in
        .executableTarget(name: name, dependencies: ["FuzzDriver", .product(name: "DeepClusterLibraries", package: "DeepCluster")],
                          path: "Sources/\(name)", swiftSettings: mode)
    }
)
