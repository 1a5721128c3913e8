// libFuzzer entry point: any byte string is loaded, decoded and, when valid, run. A crash, a hang
// (libFuzzer's -timeout) or a memory blow-up (-rss_limit_mb) is a bug; errors are expected.

import Scenario

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var options = SuiteOptions(root: "/nonexistent-fuzz-root")
    options.run.tickBudget = 100_000
    options.run.timeLimitSeconds = 2
    for loaded in ScenarioDecoder.load(bytes: bytes, path: "fuzz.yaml", display: "fuzz.yaml", options: options.load) {
        if case let .spec(spec, warnings) = loaded {
            let record = Runner.run(spec, file: "fuzz.yaml", warnings: warnings, limits: options.run)
            _ = JSONReporter().render(RunReport(results: [record.result]))
        }
    }
    return 0
}
