// libFuzzer entry point: any byte string is loaded, decoded and, when valid, run. A crash, a hang
// (libFuzzer's -timeout) or a memory blow-up (-rss_limit_mb) is a bug; errors are expected.

import Scenario

/// One input: load, decode, run every valid scenario, render the report.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size == 0 || data == nil ? [] : Array(UnsafeBufferPointer(start: data, count: size))
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

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// SwiftPM links an executable target with `main` defined as `<Target>_main`, so libFuzzer's own
/// `main` is not used: this one hands the command line to libFuzzer's driver.
@_cdecl("ScenarioFuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var c = argc
    var v = argv
    return LLVMFuzzerRunDriver(&c, &v) { data, size in fuzz(data, size) }
}
