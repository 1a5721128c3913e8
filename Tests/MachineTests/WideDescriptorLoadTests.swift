// TR and LDTR start loaded as LTR and LLDT load them: in IA-32e mode their descriptors are 16 bytes, and an
// upper half whose type field is not 0 (or that lies beyond the GDT limit) is refused with #GP(selector) by
// those instructions, so the builder refuses it instead of running on a base made of the next GDT entry.
import Testing
@testable import Machine

@Suite struct WideDescriptorLoadTests {
    enum Loaded: String, CaseIterable, Sendable { case tr, ldtr }

    static func build(_ which: Loaded, upper: UInt64) throws -> System {
        let l = LinuxLayout(mode: .x86_64)
        return try makeSystem(.x86_64) { m, _ in
            switch which {
            case .tr:
                let d = Descriptor.system(base: 0x9000, limit: 0x67, type: .tssAvailable, dpl: 0, present: true)
                m.gdt = .patch([18: TableEntry(low: d.low.raw, high: 0, tssFields: [:], tss64: true), 19: TableEntry(low: upper)])
                m.tssIndex = 18
            case .ldtr:
                let d = Descriptor.system(base: 0x9000, limit: 0x17, type: .ldt, dpl: 0, present: true)
                m.gdt = .patch([18: TableEntry(low: d.low.raw, high: 0, isLDT: true), 19: TableEntry(low: upper)])
                m.ldt = [nil, TableEntry(low: l.flatData(dpl: 3))]
            }
        }
    }

    @Test(arguments: Loaded.allCases)
    func zeroUpperHalfLoads(_ which: Loaded) throws {
        let sys = try Self.build(which, upper: 0)
        #expect((which == .tr ? sys.machine.cpu.tr : sys.machine.cpu.ldtr).selector == 18 << 3)
    }

    @Test(arguments: Loaded.allCases)
    func upperHalfWithATypeIsRefused(_ which: Loaded) {
        let data = LinuxLayout(mode: .x86_64).flatData(dpl: 3)
        do {
            _ = try Self.build(which, upper: data)
            Issue.record("\(which.rawValue) was loaded from a 16-byte descriptor whose upper half is a data segment")
        } catch let e as MachineError {
            #expect(e.message.contains("gdt[19]") && e.message.contains(which == .tr ? "LTR" : "LLDT"), "\(e.message)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func upperHalfBeyondTheGDTIsRefused() {
        let d = Descriptor.system(base: 0x9000, limit: 0x67, type: .tssAvailable, dpl: 0, present: true)
        #expect(throws: MachineError.self) { _ = try System.wideUpperHalf([0, d.low.raw], 1, what: "the TSS", loadedBy: "LTR") }
        #expect(throws: Never.self) { _ = try System.wideUpperHalf([0, d.low.raw, 0], 1, what: "the TSS", loadedBy: "LTR") }
    }

    static let upperTypes: [(UInt64, UInt8)] = [(0, 0), (0x1F << 40, 0x1F), (0x0000_9200_0000_0000, 0x12), (0xFFFF_FFFF, 0)]

    @Test(arguments: upperTypes)
    func upperType(_ high: UInt64, _ type: UInt8) {
        #expect(WideDescriptor.upperType(high) == type)
    }
}
