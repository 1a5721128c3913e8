// HandledFaultNote: why a step "with no fault" failed when the kernel model fixed the fault up.
// The contract (scenario-format.md, expect on a step) says a page fault the kernel handles, by
// demand paging for one, is still raised and must be mentioned; a new author who sees the access
// succeed reads `expected none, got #PF` as a wrong result. The sentence names what the kernel did
// and what to write.

import Machine

enum HandledFaultNote {
    /// The sentence for a step whose every exception was a #PF that the kernel model handled, the
    /// task surviving (no signal, no shutdown); nil otherwise.
    static func text(outcome: StepOutcome, kernel: Bool, trace: [TraceEvent], range: Range<Int>) -> String? {
        guard kernel, outcome.signal == nil, !outcome.shutdown, let first = outcome.faults.first,
              outcome.faults.allSatisfy({ $0.vector == .PF }) else { return nil }
        // The kernel's own words when the trace is kept (a step that checks `trace`, or explain).
        var action = "handled it (`ringspec explain` shows how)"
        for i in range where i >= 0 && i < trace.count {
            if case let .kernelAction(text) = trace[i] { action = "handled it (\(text))"; break }
        }
        let code = first.errorCode.map { ", error_code: 0x\(String($0, radix: 16))" } ?? ""
        return "the kernel \(action) and the task went on, but a fault the kernel handles is still raised and must be named: write `fault: PF` (or `fault: {vector: PF\(code)}`)"
    }
}
