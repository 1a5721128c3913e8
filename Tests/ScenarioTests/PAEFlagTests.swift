// `machine.cr4.pae` and `paging` say one thing (PG-1, PG-2, PG-3): in ia32 `cr4: {pae: true}` selects PAE
// paging as `paging: pae` does (was: the flag was dropped and 32-bit paging ran); a `paging` that
// contradicts it is an error at the flag. CR4.PCIDE can only be set in IA-32e mode (SDM Vol. 3A §4.10.1):
// `cr4.pcide` in ia32 is an error at its line (was: CR4 held PCIDE in legacy mode), in `machine` and in a
// `set` step, and `mov cr4, REG` setting it there is #GP(0).

@testable import Machine
@testable import Scenario
import Testing

@Suite struct PAEFlagTests {
    enum Want: Sendable {
        /// Valid; CR4 reads this.
        case cr4(UInt64)
        /// Invalid: an error containing the phrase at the line of `paging` or `cr4`.
        case error(String, at: String)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var mode: String
        var paging: String?
        var cr4: String?
        var want: Want
        var testDescription: String { "\(mode) paging: \(paging ?? "-") cr4: \(cr4 ?? "-")" }
    }

    static let cases: [Case] = [
        // ia32: the default is 32-bit paging (with the preset's PSE) unless cr4 sets PAE.
        Case(mode: "ia32", paging: nil, cr4: nil, want: .cr4(0x10)),
        Case(mode: "ia32", paging: nil, cr4: "{pae: true}", want: .cr4(0x20)),
        Case(mode: "ia32", paging: nil, cr4: "{pae: true, pge: true}", want: .cr4(0xa0)),
        Case(mode: "ia32", paging: nil, cr4: "{pae: false}", want: .cr4(0x10)),
        Case(mode: "ia32", paging: "pae", cr4: nil, want: .cr4(0x20)),
        Case(mode: "ia32", paging: "pae", cr4: "{pae: true}", want: .cr4(0x20)),
        Case(mode: "ia32", paging: "32bit", cr4: "{pae: false}", want: .cr4(0x10)),
        Case(mode: "ia32", paging: "32bit", cr4: "{pae: true}", want: .error("cr4.pae: true is PAE paging (PG-2), but paging is 32bit", at: "cr4")),
        Case(mode: "ia32", paging: "pae", cr4: "{pae: false}", want: .error("cr4.pae: false is not PAE paging, but paging is pae", at: "cr4")),
        // Paging off: CR4.PAE is what the flag says (CR0.PG = 0 with CR4.PAE = 1 is a state a processor holds).
        Case(mode: "ia32", paging: "off", cr4: "{pae: true}", want: .cr4(0x20)),
        Case(mode: "ia32", paging: "off", cr4: nil, want: .cr4(0)),
        Case(mode: "ia32", paging: nil, cr4: "{pcide: true}", want: .error("CR4.PCIDE can only be set in IA-32e mode", at: "cr4")),
        Case(mode: "ia32", paging: "pae", cr4: "{pcide: true}", want: .error("CR4.PCIDE can only be set in IA-32e mode", at: "cr4")),
        Case(mode: "ia32", paging: nil, cr4: "{pcide: false}", want: .cr4(0x10)),
        // x86_64: 4-level paging, which needs CR4.PAE; PCIDE may be set.
        Case(mode: "x86_64", paging: nil, cr4: "{pae: true}", want: .cr4(0x20)),
        Case(mode: "x86_64", paging: nil, cr4: "{pae: false}", want: .error("needs CR4.PAE = 1", at: "cr4")),
        Case(mode: "x86_64", paging: "4level", cr4: "{pae: false}", want: .error("needs CR4.PAE = 1", at: "cr4")),
        Case(mode: "x86_64", paging: "off", cr4: nil, want: .error("x86_64 (IA-32e mode) runs 4-level paging", at: "paging")),
        Case(mode: "x86_64", paging: nil, cr4: "{pcide: true}", want: .cr4(0x20020)),
    ]

    static func yaml(_ c: Case, steps: String? = nil) -> (String, [String: Int]) {
        var lines = ["scenario: pae", "machine:", "  mode: \(c.mode)"]
        var at: [String: Int] = [:]
        if let p = c.paging { lines.append("  paging: \(p)"); at["paging"] = lines.count }
        if let f = c.cr4 { lines.append("  cr4: \(f)"); at["cr4"] = lines.count }
        let long = c.mode == "x86_64"
        lines += ["kernel: none", "processes:", "  - name: k"]
        lines.append(long ? "    context: {cs: kernel_cs, ss: kernel_ds, rip: 0xffffffff81000000, rsp: 0xffff888002007ff0}"
                          : "    context: {cs: kernel_cs, ss: kernel_ds, eip: 0xc0100000, esp: 0xc2008000}")
        lines.append("steps:")
        if let steps { lines.append(steps) } else {
            let want: UInt64 = if case let .cr4(v) = c.want { v } else { 0 }
            lines += ["  - exec: \"mov \(long ? "rax" : "eax"), cr4\"",
                      "    expect: {regs: {cr4: 0x\(String(want, radix: 16)), \(long ? "rax" : "eax"): 0x\(String(want, radix: 16))}}"]
        }
        return (lines.joined(separator: "\n"), at)
    }

    @Test(arguments: cases)
    func machineCR4AndPaging(_ c: Case) {
        let (text, at) = Self.yaml(c)
        let r = runScenarioText(text)
        #expect(r.count == 1)
        switch (r.first?.outcome, c.want) {
        case (.passed?, .cr4): break
        case let (.invalid(ds)?, .error(phrase, key)):
            #expect(ds.contains { $0.message.contains(phrase) && $0.location?.line == at[key] }, "\(ds)")
        default:
            Issue.record("expected \(c.want), got \(String(describing: r.first?.outcome))")
        }
    }

    /// `cr4: {pae: true}` builds the same machine as `paging: pae`: PAE paging (3 levels, 8-byte entries).
    @Test(arguments: [
        ("{mode: ia32, cr4: {pae: true}}", PagingMode.pae),
        ("{mode: ia32, paging: pae}", .pae),
        ("{mode: ia32}", .bits32),
        ("{mode: ia32, cr4: {pae: false}}", .bits32),
        ("{mode: ia32, paging: off, cr4: {pae: true}}", .off),
        ("{mode: x86_64}", .level4),
    ])
    func pagingModeBuilt(_ machine: String, _ want: PagingMode) throws {
        let loaded = decodeText("scenario: p\nmachine: \(machine)\nkernel: none\nsteps:\n  - timer: 1\n")
        guard case let .spec(s, _)? = loaded.first else {
            Issue.record("did not decode: \(loaded)")
            return
        }
        #expect(s.machine.resolvedPaging == want)
        let system = try System.build(machine: s.machine, kernel: s.kernel, tasks: s.tasks)
        #expect(system.machine.pagingMode == want)
        #expect((system.machine.cpu.cr4 & CR4.pae != 0) == (want == .pae || want == .level4 || machine.contains("pae: true")))
    }

    /// A `set` step may not set PCIDE in ia32 either (error at the flag's line); in x86_64 it may.
    @Test(arguments: ["ia32", "x86_64"])
    func setStepPCIDE(_ mode: String) {
        let c = Case(mode: mode, paging: nil, cr4: nil, want: .cr4(0))
        let (text, _) = Self.yaml(c, steps: "  - set: {cr4: {pcide: true}}\n    expect: {regs: {cr4: 0x20020}}")
        let r = runScenarioText(text)
        switch (r.first?.outcome, mode) {
        case (.passed?, "x86_64"): break
        case let (.invalid(ds)?, "ia32"):
            #expect(ds.contains { $0.message.contains("set.cr4.pcide: true in ia32") && $0.location?.line == 9 }, "\(ds)")
        default:
            Issue.record("\(mode): got \(String(describing: r.first?.outcome))")
        }
    }

    /// `mov cr4, REG` setting PCIDE outside IA-32e mode is #GP(0) (SDM Vol. 2B MOV to CR4), and CR4 keeps its value.
    @Test func movCR4SettingPCIDEInIA32IsGP() {
        let c = Case(mode: "ia32", paging: nil, cr4: nil, want: .cr4(0))
        let (text, _) = Self.yaml(c, steps: """
          - exec: "mov eax, 0x20010"
          - exec: "mov cr4, eax"
            expect: {fault: {vector: GP, error_code: 0}, regs: {cr4: 0x10}}
        """)
        let r = runScenarioText(text)
        guard case .passed? = r.first?.outcome else {
            Issue.record("got \(String(describing: r.first?.outcome))")
            return
        }
    }
}
