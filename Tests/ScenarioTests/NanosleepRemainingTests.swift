// nanosleep(req, rem) cut short by a wake-up: Linux writes the time left to *rem
// (kernel/time/hrtimer.c do_nanosleep -> nanosleep_copyout). The model's time moves in whole
// ticks, so it cannot tell that time: an `irq` that wakes such a sleeper is refused as not
// modelled (was: -EINTR with rem left untouched). rem = 0, and a sleep that ends by its timeout
// (rem is not written), run.

@testable import Scenario
import Testing

@Suite struct NanosleepRemainingTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var mode: String
        var via: String
        var rem: String
        var wake: String      // "irq" or "timer"
        var passes: Bool
        var testDescription: String { "\(mode) \(via) rem \(rem) ended by \(wake)" }
    }

    static let cases: [Case] = [
        Case(mode: "x86_64", via: "syscall", rem: "0", wake: "irq", passes: true),
        Case(mode: "x86_64", via: "syscall", rem: "0x7fffffffe000", wake: "irq", passes: false),
        Case(mode: "x86_64", via: "syscall", rem: "0x7fffffffe000", wake: "timer", passes: true),
        Case(mode: "ia32", via: "int80", rem: "0", wake: "irq", passes: true),
        Case(mode: "ia32", via: "int80", rem: "0xbfffe000", wake: "irq", passes: false),
        Case(mode: "ia32", via: "sysenter", rem: "0xbfffe000", wake: "timer", passes: true),
    ]

    @Test(arguments: cases)
    func remainingTime(_ c: Case) {
        let wakeStep = c.wake == "irq" ? "irq: {vector: 0x21, wakes: a}" : "timer: 2"
        let r = runScenarioText("""
        scenario: w
        machine: {mode: \(c.mode)}
        kernel: {scheduler: {policy: fifo}}
        processes:
          - {name: a, state: running}
          - {name: b}
        steps:
          - syscall: {via: \(c.via), nr: nanosleep, args: [2, \(c.rem)]}
            expect: {switch: {from: a, to: b, reason: blocking}}
          - \(wakeStep)
            expect: {states: {a: ready}, current: b}
        """)
        #expect(r.count == 1)
        #expect(r.first?.outcome.isPassed == c.passes, "\(String(describing: r.first?.outcome))")
        if !c.passes, case let .failed(fs)? = r.first?.outcome {
            #expect(fs.contains { $0.actual.contains("not modelled") && $0.actual.contains("rem") }, "\(fs)")
        }
    }
}
