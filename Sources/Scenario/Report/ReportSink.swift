// ReportSink: where a report's text goes, piece by piece, as the run produces it.
//
// - `FileSink` writes to standard output or to a file (`--output`) through a 64 KiB buffer, so a
//   report of any size costs the same memory. A file is opened (created, truncated) only when
//   the first bytes are flushed or the sink is closed: a run that reports nothing leaves it alone.
// - `MemorySink` keeps the bytes (the `render` path, and tests).
// - A spool (`makeSpool`) holds text that must be written after something not yet known: the
//   formats whose totals come before the results (JSON's `summary`, JUnit's `<testsuites
//   tests=...>`, TAP's plan, Gradescope's `score`) write each result into a spool and, at the
//   end, the totals into the sink followed by the spool. A `FileSink`'s spool is an unlinked
//   temporary file (in `$TMPDIR`, else /tmp), so the output stays byte for byte what it was
//   while memory stays flat; when no temporary file can be made, it is kept in memory.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public protocol ReportSink: AnyObject {
    func write(_ bytes: UnsafeRawBufferPointer)
    /// An empty place to hold text until it is drained into this sink.
    func makeSpool() -> any ReportSpool
}

extension ReportSink {
    public func write(_ text: String) {
        var text = text
        text.withUTF8 { write(UnsafeRawBufferPointer($0)) }
    }
}

/// Text held back: `drain(into:)` writes all of it, in order, and empties the spool.
public protocol ReportSpool: ReportSink {
    func drain(into sink: any ReportSink)
}

/// The report in memory.
public final class MemorySink: ReportSpool {
    public private(set) var bytes: [UInt8] = []
    public init() {}
    /// The bytes as text (reports are UTF-8).
    public var text: String { String(decoding: bytes, as: UTF8.self) }
    public func write(_ chunk: UnsafeRawBufferPointer) { bytes.append(contentsOf: chunk) }
    public func makeSpool() -> any ReportSpool { MemorySink() }
    public func drain(into sink: any ReportSink) {
        bytes.withUnsafeBytes { sink.write($0) }
        bytes = []
    }
}

public struct ReportSinkError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// Standard output or a file, written through a buffer.
public final class FileSink: ReportSink {
    static let capacity = 64 * 1024

    private var fd: Int32
    /// The file to open on the first flush; nil for standard output or an open descriptor.
    private let path: String?
    private let ownsDescriptor: Bool
    private var buffer: [UInt8] = []
    /// The first error met; writing stops there and `close` throws it.
    private(set) var failure: String?
    /// Called before buffered bytes go out (the CLI clears its progress line on the terminal).
    public var beforeFlush: (() -> Void)?

    /// Standard output.
    public init() {
        fd = 1
        path = nil
        ownsDescriptor = false
        buffer.reserveCapacity(Self.capacity)
    }

    /// The file at `path`, created or truncated when the first bytes are written.
    public init(path: String) {
        fd = -1
        self.path = path
        ownsDescriptor = true
        buffer.reserveCapacity(Self.capacity)
    }

    /// An open descriptor, closed with the sink.
    init(descriptor: Int32) {
        fd = descriptor
        path = nil
        ownsDescriptor = true
        buffer.reserveCapacity(Self.capacity)
    }

    deinit {
        if ownsDescriptor && fd >= 0 { _ = posixClose(fd) }
    }

    public func write(_ chunk: UnsafeRawBufferPointer) {
        if buffer.count + chunk.count > Self.capacity { flush() }
        if chunk.count >= Self.capacity {
            writeOut(chunk)
        } else {
            buffer.append(contentsOf: chunk)
        }
    }

    /// Writes out what is buffered.
    public func flush() {
        guard !buffer.isEmpty else { return }
        buffer.withUnsafeBytes { writeOut($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes, opens the file if nothing was written yet, closes it, and reports the first error.
    public func close() throws(ReportSinkError) {
        flush()
        if failure == nil { _ = open() }
        if ownsDescriptor && fd >= 0 {
            if posixClose(fd) != 0 { record("cannot write \(path ?? "the report"): \(String(cString: strerror(errno)))") }
            fd = -1
        }
        if let failure { throw ReportSinkError(description: failure) }
    }

    public func makeSpool() -> any ReportSpool {
        TemporaryFileSpool(reportingTo: self) ?? MemorySink()
    }

    func record(_ message: String) {
        if failure == nil { failure = message }
    }

    private func open() -> Bool {
        if fd >= 0 { return true }
        guard let path else { return false }
        fd = posixOpen(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
        if fd < 0 { record("cannot write \(path)") }
        return fd >= 0
    }

    private func writeOut(_ bytes: UnsafeRawBufferPointer) {
        guard failure == nil, !bytes.isEmpty, open() else { return }
        beforeFlush?()
        var offset = 0
        while offset < bytes.count {
            let n = posixWrite(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                // Standard output going away (a closed pipe, `| head`; a closed descriptor) is not
                // the report's error, as with print. Any other failure is: a report to standard
                // output cut short by a full disk (`> report.xml`) must not leave a run that exits 0.
                let error = errno
                if path != nil || ownsDescriptor || (error != EPIPE && error != EBADF) {
                    record("cannot write \(path ?? "the report"): \(String(cString: strerror(error)))")
                }
                return
            }
            offset += n
        }
    }

    /// Reads the descriptor back from its start into `sink` (a spool's file), then empties it.
    func drainFromStart(into sink: any ReportSink) -> Bool {
        flush()
        guard failure == nil, fd >= 0, lseek(fd, 0, SEEK_SET) == 0 else { return false }
        var chunk = [UInt8](repeating: 0, count: Self.capacity)
        while true {
            let n = chunk.withUnsafeMutableBytes { posixRead(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return false }
            if n == 0 { break }
            chunk.withUnsafeBytes { sink.write(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
        }
        return ftruncate(fd, 0) == 0 && lseek(fd, 0, SEEK_SET) == 0
    }
}

/// A spool in an unlinked temporary file: it takes disk, not memory, and disappears with the process.
final class TemporaryFileSpool: ReportSpool {
    private let file: FileSink
    /// Told when the spool cannot give back what was written into it.
    private weak var owner: FileSink?

    init?(reportingTo owner: FileSink?) {
        var dir = "/tmp"
        if let t = getenv("TMPDIR"), t.pointee != 0 { dir = String(cString: t) }
        var template = Array((dir + "/ringspec-report-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { return nil }
        _ = template.withUnsafeBufferPointer { unlink($0.baseAddress!) }
        file = FileSink(descriptor: fd)
        self.owner = owner
    }

    func write(_ chunk: UnsafeRawBufferPointer) { file.write(chunk) }
    func makeSpool() -> any ReportSpool { MemorySink() }

    func drain(into sink: any ReportSink) {
        if !file.drainFromStart(into: sink) {
            owner?.record("cannot write the report: its temporary file failed (\(file.failure ?? String(cString: strerror(errno))))")
        }
    }
}

// The system calls under names the sink's own methods (`close`, `write`) do not shadow.
private func posixOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { open(path, flags, mode) }
private func posixWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int { write(fd, p, n) }
private func posixRead(_ fd: Int32, _ p: UnsafeMutableRawPointer?, _ n: Int) -> Int { read(fd, p, n) }
private func posixClose(_ fd: Int32) -> Int32 { close(fd) }
