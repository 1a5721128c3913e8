// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "ringspec",
    products: [
        .executable(name: "ringspec", targets: ["ringspec"]),
        .library(name: "Machine", targets: ["Machine"]),
        .library(name: "Scenario", targets: ["Scenario"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // Test-only: property-based tests (Tests/ScenarioTests/PropertyTests.swift).
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        // libyaml, found through pkg-config; `apt-get install libyaml-dev` provides it.
        .systemLibrary(
            name: "CYaml",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]
        ),
        // The x86 machine and the Linux-like kernel. Knows nothing of YAML.
        .target(name: "Machine"),
        // Scenario files: loading, decoding, running, checking, reporting.
        .target(name: "Scenario", dependencies: ["Machine", "CYaml"]),
        // The command line: argument parsing only, then calls into Scenario.
        .executableTarget(
            name: "ringspec",
            dependencies: [
                "Scenario",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The benchmark of issue 7 (docs/performance.md): `swift run -c release ringspec-bench`.
        .executableTarget(
            name: "ringspec-bench",
            dependencies: ["Scenario", "Machine", "CYaml"],
            path: "Benchmarks/RingspecBench"
        ),
        .testTarget(name: "MachineTests", dependencies: ["Machine"]),
        .testTarget(
            name: "ScenarioTests",
            dependencies: ["Scenario", "Machine", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
