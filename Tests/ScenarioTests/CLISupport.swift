// Running the built `ringspec` binary from the tests: hostile inputs are written to a fresh temp
// folder, the binary runs on them with Foundation's Process, and the tests check the exit status,
// the termination reason (an exit, never a signal, before the hang deadline) and the messages.

import Foundation
import Testing

/// The `ringspec` executable next to the test bundle (`swift test` builds every product into the
/// same folder), or `.build/debug/ringspec` under the package root.
func ringspecBinary() -> String? {
    var candidates: [String] = []
    if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
        candidates.append(URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("ringspec").path)
    }
    candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("ringspec").path)
    candidates.append(packageRoot() + "/.build/debug/ringspec")
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
}

struct CLIResult {
    var status: Int32
    /// True when the process ended by a signal (a crash, or killed after the deadline).
    var signalled: Bool
    var timedOut: Bool
    var stdout: String
    var stderr: String
    var output: String { stdout + stderr }
}

/// Runs `ringspec ARGS` in `cwd`, killing it after `deadline` seconds (a hang guard, never a timing).
func runRingspec(_ args: [String], cwd: String? = nil, deadline: Double = 120) throws -> CLIResult {
    guard let bin = ringspecBinary() else {
        throw BinaryRunError(message: "the ringspec binary was not found: run `swift build` first")
    }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: bin)
    p.arguments = args
    if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
    var env = ProcessInfo.processInfo.environment
    env["NO_COLOR"] = "1"
    p.environment = env
    // Output goes to files, so a large report cannot fill a pipe and block the child.
    let dir = try TempDir()
    let outPath = dir.path + "/stdout", errPath = dir.path + "/stderr"
    _ = FileManager.default.createFile(atPath: outPath, contents: nil)
    _ = FileManager.default.createFile(atPath: errPath, contents: nil)
    let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
    let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
    p.standardOutput = out
    p.standardError = err
    p.standardInput = FileHandle.nullDevice
    let start = Date()
    try p.run()
    var timedOut = false
    while p.isRunning {
        if Date().timeIntervalSince(start) > deadline {
            timedOut = true
            p.terminate()
            Thread.sleep(forTimeInterval: 0.5)
            if p.isRunning { kill(p.processIdentifier, SIGKILL) }
            break
        }
        Thread.sleep(forTimeInterval: 0.02)
    }
    p.waitUntilExit()
    try out.close()
    try err.close()
    let stdout = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
    let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
    return CLIResult(status: p.terminationStatus, signalled: p.terminationReason == .uncaughtSignal, timedOut: timedOut,
                     stdout: stdout, stderr: stderr)
}

struct BinaryRunError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// A fresh folder under the system temp folder, removed when the value goes away.
final class TempDir: @unchecked Sendable {
    let path: String
    init() throws {
        let base = FileManager.default.temporaryDirectory.path
        path = base + "/ringspec-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `text` to `name` (sub-folders created) and returns the full path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let full = path + "/" + name
        try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: full).deletingLastPathComponent().path,
                                                withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: false, encoding: .utf8)
        return full
    }

    func mkdir(_ name: String) throws -> String {
        let full = path + "/" + name
        try FileManager.default.createDirectory(atPath: full, withIntermediateDirectories: true)
        return full
    }

    func symlink(_ name: String, to target: String) throws {
        try FileManager.default.createSymbolicLink(atPath: path + "/" + name, withDestinationPath: target)
    }
}

/// Checks the invariant every hostile input must keep: an exit (not a signal) with status 2,
/// before the run's deadline (the hang guard: `runRingspec` kills it then; how fast is a benchmark's
/// question, not a test's), and a located error `FILE:LINE:COLUMN: error: ...` whose text contains `message`.
func expectRefused(_ r: CLIResult, _ message: String, file: String? = nil,
                   sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    #expect(!r.signalled, "ended by a signal: \(r.stderr.suffix(2000))", sourceLocation: sourceLocation)
    #expect(!r.timedOut, "did not finish before the deadline: a hang", sourceLocation: sourceLocation)
    #expect(r.status == 2, "exit status \(r.status), expected 2\n\(r.output.prefix(2000))", sourceLocation: sourceLocation)
    let lines = r.output.split(separator: "\n").map(String.init)
    let located = lines.filter { line in
        line.contains(message) && line.range(of: #"[^ :]+:[0-9]+:[0-9]+: error: "#, options: .regularExpression) != nil
            && (file.map { line.contains($0) } ?? true)
    }
    #expect(!located.isEmpty, "no located error containing '\(message)' in:\n\(r.output.prefix(3000))", sourceLocation: sourceLocation)
}

/// The minimal valid scenario header (ia32, one running task) with `id`.
func minimalScenario(_ id: String, mode: String = "ia32") -> String {
    "scenario: \(id)\nmachine: {mode: \(mode)}\nprocesses:\n  - {name: a, state: running}\n"
}
