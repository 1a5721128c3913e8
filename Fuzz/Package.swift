// swift-tools-version:6.0
// The libFuzzer target over loader + decoder + runner. Build and run (see docs/reliability.md):
//   cd Fuzz && swift build -c debug -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
//   .build/debug/ScenarioFuzz corpus/ ../scenarios ../../shared/yaml-test-suite -max_total_time=600
import PackageDescription

let package = Package(
    name: "ringspec-fuzz",
    dependencies: [.package(path: "..")],
    targets: [
        .executableTarget(
            name: "ScenarioFuzz",
            dependencies: [.product(name: "Scenario", package: "ringspec")]
        )
    ],
    swiftLanguageModes: [.v6]
)
