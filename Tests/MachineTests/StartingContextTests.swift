// StartingContext: a task's `context` must give a state a processor can be in; the builder refuses
// the others instead of guessing what would run (a data CS, L=1 with D=1, a non-canonical RIP, ...).
import Testing
@testable import Machine

@Suite struct StartingContextTests {
    static func code(long: Bool = false, big: Bool = true) -> SegmentRegister {
        var c = SegmentCache.flat(code: true, dpl: 3, long: long)
        c.big = big
        return SegmentRegister(selector: 0x33, cache: c)
    }
    static let data = SegmentRegister(selector: 0x2b, cache: .flat(code: false, dpl: 3))
    static var readOnlyData: SegmentRegister {
        var c = SegmentCache.flat(code: false, dpl: 3)
        c.type = 0x1
        return SegmentRegister(selector: 0x2b, cache: c)
    }
    static let nullSS = SegmentRegister(selector: 0, cache: .unusable)
    /// A ring-1 64-bit code segment (selector 0x49, RPL 1).
    static var ring1Code: SegmentRegister { SegmentRegister(selector: 0x49, cache: .flat(code: true, dpl: 1, long: true)) }
    /// Ring-0 segments: 64-bit code (conforming or not) and data, with RPL 0 unless given.
    static func kernelCode(conforming: Bool = false, rpl: UInt16 = 0) -> SegmentRegister {
        var c = SegmentCache.flat(code: true, dpl: 0, long: true)
        if conforming { c.type |= 0x4 }
        return SegmentRegister(selector: 0x10 | rpl, cache: c)
    }
    static let kernelData = SegmentRegister(selector: 0x18, cache: .flat(code: false, dpl: 0))

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let cs: SegmentRegister, ss: SegmentRegister
        let rip: UInt64, bits: Int?, longMode: Bool
        /// A word the refusal must contain; nil: accepted.
        let refusal: String?
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "64-bit code, canonical RIP", cs: code(long: true, big: false), ss: data, rip: 0x400000, bits: nil, longMode: true, refusal: nil),
        Case(name: "64-bit code, highest canonical RIP", cs: code(long: true, big: false), ss: data, rip: 0x7fff_ffff_ffff, bits: 64, longMode: true, refusal: nil),
        Case(name: "64-bit code, non-canonical RIP", cs: code(long: true, big: false), ss: data, rip: 0x8000_0000_0000, bits: nil, longMode: true, refusal: "not canonical"),
        Case(name: "compatibility code, 32-bit EIP", cs: code(), ss: data, rip: 0xffff_f000, bits: 32, longMode: true, refusal: nil),
        Case(name: "compatibility code, EIP above 4 GiB", cs: code(), ss: data, rip: 0x1_0000_0000, bits: 32, longMode: true, refusal: "32 bits"),
        Case(name: "protected mode, EIP above 4 GiB", cs: code(), ss: data, rip: 0x1_0000_0000, bits: nil, longMode: false, refusal: "32 bits"),
        Case(name: "data segment in CS", cs: data, ss: data, rip: 0x400000, bits: nil, longMode: true, refusal: "data segment"),
        Case(name: "data segment in CS, protected mode", cs: data, ss: data, rip: 0x8048000, bits: nil, longMode: false, refusal: "data segment"),
        Case(name: "L=1 with D=1 in IA-32e mode", cs: code(long: true, big: true), ss: data, rip: 0x400000, bits: nil, longMode: true, refusal: "L=1 and D=1"),
        Case(name: "bits 32 with 64-bit code", cs: code(long: true, big: false), ss: data, rip: 0x400000, bits: 32, longMode: true, refusal: "bits: 32"),
        Case(name: "bits 64 with compatibility code", cs: code(), ss: data, rip: 0x400000, bits: 64, longMode: true, refusal: "bits: 64"),
        Case(name: "code segment in SS", cs: code(long: true, big: false), ss: code(long: true, big: false), rip: 0x400000, bits: nil, longMode: true, refusal: "writable data"),
        Case(name: "read-only data in SS", cs: code(), ss: readOnlyData, rip: 0x8048000, bits: nil, longMode: false, refusal: "writable data"),
        Case(name: "null SS at CPL 0 in 64-bit mode", cs: kernelCode(), ss: nullSS, rip: 0x400000, bits: nil, longMode: true, refusal: nil),
        Case(name: "null SS of RPL 0 at CPL 1 in 64-bit mode", cs: ring1Code, ss: nullSS, rip: 0x400000, bits: nil, longMode: true, refusal: "RPL = CPL"),
        Case(name: "null SS of RPL 1 at CPL 1 in 64-bit mode", cs: ring1Code, ss: SegmentRegister(selector: 1, cache: nullSS.cache), rip: 0x400000, bits: nil, longMode: true, refusal: nil),
        Case(name: "null SS at CPL 3 in 64-bit mode", cs: code(long: true, big: false), ss: nullSS, rip: 0x400000, bits: nil, longMode: true, refusal: "null at CPL 3"),
        Case(name: "null SS at CPL 3 in compatibility mode (refused on use)", cs: code(), ss: nullSS, rip: 0x8048000, bits: nil, longMode: true, refusal: nil),
        Case(name: "non-conforming DPL-0 code at CPL 3", cs: kernelCode(rpl: 3), ss: data, rip: 0x400000, bits: nil, longMode: true, refusal: "non-conforming"),
        Case(name: "conforming DPL-0 code at CPL 3", cs: kernelCode(conforming: true, rpl: 3), ss: data, rip: 0x400000, bits: nil, longMode: true, refusal: nil),
        Case(name: "kernel code and data at CPL 0", cs: kernelCode(), ss: kernelData, rip: 0xffff_ffff_8100_0000, bits: nil, longMode: true, refusal: nil),
        Case(name: "DPL-0 SS at CPL 3", cs: code(long: true, big: false), ss: kernelData, rip: 0x400000, bits: nil, longMode: true, refusal: "does not match CPL"),
        Case(name: "SS with RPL 0 at CPL 3", cs: code(long: true, big: false), ss: SegmentRegister(selector: 0x28, cache: .flat(code: false, dpl: 3)), rip: 0x400000, bits: nil, longMode: true, refusal: "does not match CPL"),
    ]

    @Test(arguments: cases)
    func startingState(_ c: Case) {
        do {
            try StartingContext.validate(task: "t", cs: c.cs, ss: c.ss, rip: c.rip, bits: c.bits, longMode: c.longMode)
            #expect(c.refusal == nil, "accepted, expected a refusal naming '\(c.refusal ?? "")'")
        } catch {
            guard let word = c.refusal else { Issue.record("refused: \(error.message)"); return }
            #expect(error.message.contains(word), "\(error.message)")
        }
    }

    /// The builder makes the check, and the error carries the context's origin.
    @Test func builderRefusesADataSegmentInCS() {
        var t = taskSpec("main")
        t.segments[.cs] = 0x2b
        t.contextOrigin = 7
        do {
            _ = try makeSystem(.x86_64, tasks: [t])
            Issue.record("a task whose CS is user_ds was built")
        } catch let error as MachineError {
            #expect(error.message.contains("data segment"))
            #expect(error.origin == 7)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func builderRefusesANonCanonicalRIP() {
        var t = taskSpec("main")
        t.rip = 0x8000_0000_0000_0000
        #expect(throws: MachineError.self) { _ = try makeSystem(.x86_64, tasks: [t]) }
    }
}
