// The operand forms of `in`/`out` (Intel syntax, SDM Vol. 2A IN / Vol. 2B OUT) and the `io_ports` key of a TSS
// (the ports its I/O permission bit map grants, PRIV-4): what they decode to, and every bad form reported at
// its line and column with a hint.

import Machine
@testable import Scenario
import Testing

@Suite struct IOPortDecoderTests {
    static func steps(_ text: String, mode: String = "ia32") -> String {
        "scenario: a\nmachine: {mode: \(mode)}\nkernel: none\nsteps:\n  - exec: \"\(text)\"\n"
    }

    @Test("exec forms of in/out", arguments: [
        ("in", Instruction.inPort), ("out", .outPort),
        ("in al, 0x60", .portIn(.immediate(0x60), size: 1)), ("in ax, 0x7", .portIn(.immediate(7), size: 2)),
        ("in eax, 0ffh", .portIn(.immediate(0xFF), size: 4)), ("IN AL, DX", .portIn(.dx, size: 1)),
        ("in eax, dx", .portIn(.dx, size: 4)), ("out 0x80, al", .portOut(.immediate(0x80), size: 1)),
        ("out dx, ax", .portOut(.dx, size: 2)), ("out 0x70 , eax", .portOut(.immediate(0x70), size: 4)),
    ])
    func forms(_ text: String, _ expected: Instruction) {
        guard let s = spec(Self.steps(text)) else {
            Issue.record("`\(text)` did not decode: \(diagnostics(Self.steps(text)).map(\.description))")
            return
        }
        guard case let .exec(i)? = s.steps.first?.event else {
            Issue.record("no exec step")
            return
        }
        #expect(i == expected)
    }

    @Test("bad in/out operands are errors at the step's line and column, with a hint", arguments: [
        ("in al, 0x100", "does not fit 8 bits", "mov edx, 0x100"),
        ("in bl, 0x60", "AL, AX or EAX only", "8-bit immediate or dx"),
        ("out dx, ebx", "AL, AX or EAX only", "8-bit immediate or dx"),
        ("in al, cx", "neither an 8-bit immediate nor dx", "through dx"),
        ("out al, 0x80", "AL, AX or EAX only", "8-bit immediate or dx"),
        ("in al", "takes two operands (or none)", nil),
        ("out 0x80, al, al", "takes two operands (or none)", nil),
        ("in rax, dx", "AL, AX or EAX only", "8-bit immediate or dx"),
    ] as [(String, String, String?)])
    func badOperands(_ text: String, _ message: String, _ note: String?) {
        let ds = diagnostics(Self.steps(text))
        guard let d = ds.first(where: { $0.message.contains("steps[0].exec") || $0.message.contains(message) }) else {
            Issue.record("no diagnostic for `\(text)`: \(ds.map(\.description))")
            return
        }
        #expect(d.message.contains(message), "\(d.message)")
        if let note { #expect(d.notes.contains { $0.contains(note) }, "\(d.notes)") }
        #expect(d.description.contains(":5:11:"), "\(d.description)")
    }

    @Test("io_ports on a GDT TSS entry: ports and ranges, and the limit it gives")
    func ioPortsOnEntry() {
        let yaml = """
        scenario: a
        machine:
          mode: ia32
          gdt:
            20: {name: iotss, type: tss32, io_ports: [0x60, {from: 0x3f8, to: 0x3ff}]}
            21: {name: cut, type: tss32, limit: 0x80, io_ports: [0x10]}
        kernel: none
        """
        guard let s = spec(yaml), case let .patch(map)? = s.machine.gdt else {
            Issue.record("did not decode: \(diagnostics(yaml).map(\.description))")
            return
        }
        #expect(map[20]??.ioPorts == [0x60...0x60, 0x3F8...0x3FF])
        #expect(map[20]??.limitGiven == false)
        #expect(map[21]??.ioPorts == [0x10...0x10])
        #expect(map[21]??.limitGiven == true)
    }

    @Test("io_ports on machine.tss")
    func ioPortsOnMachineTSS() {
        let yaml = "scenario: a\nmachine:\n  mode: x86_64\n  tss: {name: tss, iomap: 0x100, io_ports: [0xffff, {from: 0, to: 7}]}\nkernel: none\n"
        guard let s = spec(yaml) else {
            Issue.record("did not decode: \(diagnostics(yaml).map(\.description))")
            return
        }
        #expect(s.machine.tssIOPorts == [0xFFFF...0xFFFF, 0...7])
        #expect(s.machine.tssFields["iomap"] == 0x100)
    }

    @Test("bad io_ports are errors at their line and column", arguments: [
        ("io_ports: [0x10000]", 4, 20, "out of range", nil),
        ("io_ports: [{from: 0x10, to: 0x8}]", 4, 37, "is below from", nil),
        ("io_ports: [{from: 0x10}]", 4, 20, "needs both from and to", nil),
        ("io_ports: [{form: 0x10, to: 0x11}]", 4, 21, "unknown key 'form'", "did you mean 'from'?"),
        ("io_ports: 0x60", 4, 19, "must be a list", nil),
        ("io_port: [0x60]", 4, 9, "unknown key 'io_port'", "did you mean 'io_ports'?"),
        ("iomap: 0x10000", 4, 16, "out of range", nil),
        ("iomap: 0x40, io_ports: [0x60]", 4, 16, "would overwrite the TSS's own fields", "0x68 or above"),
    ] as [(String, Int, Int, String, String?)])
    func badIOPorts(_ entry: String, _ line: Int, _ column: Int, _ message: String, _ note: String?) {
        let yaml = "scenario: a\nmachine:\n  mode: ia32\n  tss: {\(entry)}\nkernel: none\n"
        let ds = diagnostics(yaml)
        guard let d = ds.first(where: { $0.message.contains(message) }) else {
            Issue.record("no diagnostic '\(message)' for `\(entry)`: \(ds.map(\.description))")
            return
        }
        #expect(d.description.contains(":\(line):\(column):"), "\(d.description)")
        if let note { #expect(d.notes.contains { $0.contains(note) }, "\(d.notes)") }
    }
}

/// `explain` names the port, the TSS byte and the bit that decided an IN/OUT at CPL > IOPL, or the byte
/// beyond the TSS limit (PRIV-4).
@Suite struct IOPermissionExplainTests {
    static func explain(_ steps: String, machine: String = "  tss: {name: tss, io_ports: [0x60]}\n") -> String {
        let yaml = "scenario: t\nmachine:\n  mode: ia32\n\(machine)kernel: none\nsteps:\n\(steps)"
        guard case let .spec(spec, warnings)? = decodeText(yaml).first else {
            Issue.record("the scenario does not load: \(diagnostics(yaml).map(\.description))")
            return ""
        }
        var limits = RunLimits()
        limits.keepTrace = true
        return Explainer.render(spec, Runner.run(spec, file: "t.yaml", warnings: warnings, limits: limits))
    }

    @Test("a denied port: the bit and the TSS byte")
    func deniedBit() {
        let text = Self.explain("  - exec: \"in al, 0x61\"\n    expect: {fault: GP}\n")
        #expect(text.contains("PRIV-4"), "\(text)")
        #expect(text.contains("port 0x61, bit 1 of TSS byte 0x74"), "\(text)")
    }

    @Test("an allowed port: the TSS bytes read")
    func allowed() {
        let text = Self.explain("  - exec: \"in al, 0x60\"\n")
        #expect(text.contains("port 0x60: TSS bytes 0x74-0x75"), "\(text)")
        #expect(text.contains("access allowed"), "\(text)")
    }

    @Test("a byte beyond the limit")
    func beyondLimit() {
        let text = Self.explain("  - set: {regs: {edx: 0xffff}}\n  - exec: \"in al, dx\"\n    expect: {fault: GP}\n",
                                machine: "  tss: iotss\n  gdt:\n    20: {name: iotss, type: tss32, limit: 0x2067, io_ports: [0xffff]}\n")
        #expect(text.contains("byte 0x2068 lies beyond the TSS limit 0x2067"), "\(text)")
    }
}

/// The TSS image is kept by linear address (docs/machine-model.md): a MOV through the TSS's own addresses
/// reaches it, one through another mapping of its frame is refused as not modelled, never answered from stale
/// bytes.
@Suite struct TSSAliasTests {
    @Test("a MOV through a second mapping of the TSS's frame is refused", arguments: ["mov [0x00500078], eax", "mov eax, [0x00500078]"])
    func aliasRefused(_ instruction: String) {
        // The ia32 preset's TSS is at 0xc0005000, physical 0x5000 through the direct map.
        let r = runScenarioText("""
        scenario: a
        machine:
          mode: ia32
          tss: {name: tss, io_ports: [0x80]}
          pages:
            - {virt: 0x00500000, phys: 0x5000, writable: true, user: true}
        kernel: none
        steps:
          - exec: "\(instruction)"
            expect: {fault: none}
        """)
        #expect(r.first?.outcome.isPassed == false, "\(String(describing: r.first?.outcome))")
        if case let .failed(fs)? = r.first?.outcome {
            #expect(fs.contains { $0.actual.contains("does not follow aliases") }, "\(fs)")
        }
    }

    @Test("the same page's bytes outside the TSS, and the TSS's own addresses, are not refused")
    func noAlias() {
        let r = runScenarioText("""
        scenario: a
        machine:
          mode: ia32
          tss: {name: tss}
          pages:
            - {virt: 0x00500000, phys: 0x5000, writable: true, user: true}
        kernel: none
        steps:
          - exec: "mov [0x00500800], eax"
            expect: {fault: none}
          - exec: "int 0x80"
          - exec: "mov eax, [0xc0005066]"
            expect: {fault: none, regs: {eax: 0x68}}
        """)
        #expect(r.first?.outcome.isPassed == true, "\(String(describing: r.first?.outcome))")
    }
}
