// swift-tools-version:6.0
// DeepCluster as a multi-process trainer: Open MPI for the collectives, OpenBLAS for the math.
import PackageDescription

// The numeric targets hand raw buffer pointers to DispatchQueue.concurrentPerform and to C;
// Swift 5 language mode keeps that free of Sendable wrappers. All MPI calls stay on the main thread.
let mode: [SwiftSetting] = [.swiftLanguageMode(.v5)]

let package = Package(
    name: "DeepCluster",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "deepcluster", targets: ["DeepClusterCLI"]),
        // The parsers and checkpoint readers as libraries, for the fuzz targets in Fuzz/.
        .library(name: "DeepClusterLibraries", targets: ["Datasets", "DeepCluster"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        // PNG and JPEG decoding in C: libjpeg reports errors by longjmp, which Swift cannot catch.
        .target(name: "CImageCodecs", path: "Sources/CImageCodecs",
                linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("jpeg")]),
        // oneDNN (Debian's libdnnl-dev; no pkg-config file) for the convolutions, behind NN's kernel seam.
        .target(name: "COneDNN", dependencies: ["CWinograd"], path: "Sources/COneDNN", linkerSettings: [.linkedLibrary("dnnl"), .linkedLibrary("dl")]),
        // Winograd's transforms for inference's 3×3 and 5×5 convolutions (NN/Kernels/WinogradConvolution).
        .target(name: "CWinograd", path: "Sources/CWinograd", cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "Collective", dependencies: ["CMPI"], swiftSettings: mode),
        .target(name: "Tensor", dependencies: ["COpenBLAS"], swiftSettings: mode),
        .target(name: "NN", dependencies: ["Tensor", "COneDNN", "CWinograd"], swiftSettings: mode),
        .target(name: "Datasets", dependencies: ["Tensor", "CZlib", "CImageCodecs"], swiftSettings: mode),
        .target(name: "Clustering", dependencies: ["Tensor", "Collective"], swiftSettings: mode),
        .target(name: "DeepCluster",
                dependencies: ["Collective", "Tensor", "NN", "Datasets", "Clustering", "CZlib"],
                swiftSettings: mode),
        // The interop model the PyTorch fixture is made from: for the tests and `diagnose export-model` only.
        .target(name: "TestSupport", dependencies: ["NN"], swiftSettings: mode),
        .executableTarget(name: "DeepClusterCLI",
                          dependencies: ["DeepCluster", "Collective", "Tensor", "NN", "Datasets", "Clustering", "TestSupport",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          swiftSettings: mode),
        .testTarget(name: "CollectiveTests", dependencies: ["Collective"], swiftSettings: mode),
        .testTarget(name: "TensorTests", dependencies: ["Tensor"], swiftSettings: mode),
        .testTarget(name: "NNTests", dependencies: ["NN", "Tensor", "CWinograd", "COneDNN"], resources: [.copy("Fixtures")],
                    swiftSettings: mode),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Tensor"], resources: [.copy("Fixtures")],
                    swiftSettings: mode),
        .testTarget(name: "ClusteringTests", dependencies: ["Clustering", "Collective"],
                    resources: [.copy("Fixtures")], swiftSettings: mode),
        .testTarget(name: "DeepClusterTests", dependencies: ["DeepCluster", "Datasets", "NN", "Tensor", "TestSupport"], resources: [.copy("Fixtures")],
                    swiftSettings: mode),
        .testTarget(name: "LaunchTests", swiftSettings: mode),
    ]
)
