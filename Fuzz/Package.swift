// swift-tools-version:6.0
// The libFuzzer target over loader + decoder + runner. Build and run (see docs/reliability.md):
//   cd Fuzz && swift build -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
//   .build/debug/ScenarioFuzz corpus/ -max_total_time=600 -timeout=10 -rss_limit_mb=2048
import Foundation
import PackageDescription

// SwiftPM names a path dependency after its folder (`ringspec`, or a worktree's folder name), so
// the product's package is named from the parent folder rather than hard-coded.
let parent = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let parentIdentity = parent.lastPathComponent.lowercased()

let package = Package(
    name: "ringspec-fuzz",
    dependencies: [.package(path: "..")],
    targets: [
        .executableTarget(
            name: "ScenarioFuzz",
            dependencies: [.product(name: "Scenario", package: parentIdentity)]
        )
    ],
    swiftLanguageModes: [.v6]
)
