// `irq: {vector, wakes}`: the wake is the work of the kernel's interrupt handler (scenario format,
// steps table: "an external interrupt; may wake a blocked task"). When the vector's gate leads
// somewhere else, or the delivery faults, no handler runs: the step is refused as not modelled
// instead of dropping the wake in silence (was: the task stayed blocked and the step "ran").

@testable import Scenario
import Testing

@Suite struct IrqWakesTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var idt: String
        var vector: String
        var passes: Bool
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "a preset PIC line wakes the task", idt: "", vector: "0x21", passes: true),
        Case(name: "a gate to a handler of the scenario's own is refused", idt: """
          idt:
            0x30: {type: interrupt, dpl: 0, selector: kernel_cs, offset: 0xffffffff81000300}
        """, vector: "0x30", passes: false),
        Case(name: "a not-present gate (#NP during delivery) is refused", idt: """
          idt:
            0x21: {type: interrupt, dpl: 0, selector: kernel_cs, offset: 0xffffffff81001210, present: false}
        """, vector: "0x21", passes: false),
    ]

    @Test(arguments: cases)
    func irqWakes(_ c: Case) {
        let r = runScenarioText("""
        scenario: w
        machine:
          mode: x86_64
        \(c.idt)
        kernel: {scheduler: {policy: fifo}}
        processes:
          - {name: a}
          - {name: b, state: blocked}
        steps:
          - irq: {vector: \(c.vector), wakes: b}
            expect: {states: {b: ready}, faults: [NP, GP, DF, PF], current: a}
        """.replacingOccurrences(of: "faults: [NP, GP, DF, PF], ", with: c.passes ? "" : "faults: [NP], "))
        #expect(r.count == 1)
        #expect(r.first?.outcome.isPassed == c.passes, "\(String(describing: r.first?.outcome))")
        if !c.passes, case let .failed(fs)? = r.first?.outcome {
            #expect(fs.contains { $0.actual.contains("not modelled") && $0.actual.contains("irq wakes b") }, "\(fs)")
        }
    }

    /// With `kernel: none` the CPU stops at the handler's entry, so `wakes` can never happen: it is an
    /// error at its line (was: accepted and ignored).
    @Test func wakesOnABareCPUIsAnErrorAtItsLine() {
        let ds = diagnostics("""
        scenario: w
        machine:
          mode: ia32
          idt:
            0x30: {type: interrupt, dpl: 0, selector: kernel_cs, offset: 0xc0100300}
        kernel: none
        processes: [{name: a}, {name: b, state: blocked}]
        steps:
          - irq: {vector: 0x30, wakes: b}
        """)
        #expect(ds.contains { $0.message.contains("irq.wakes") && $0.message.contains("kernel: none") && $0.location?.line == 9 }, "\(ds)")
        #expect(diagnostics("""
        scenario: w
        machine:
          mode: ia32
          idt:
            0x30: {type: interrupt, dpl: 0, selector: kernel_cs, offset: 0xc0100300}
        kernel: none
        processes: [{name: a}]
        steps:
          - irq: {vector: 0x30}
            expect: {gate: {vector: 0x30}}
        """).isEmpty)
    }
}
