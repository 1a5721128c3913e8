// TASK-1: a task switch through a task gate (IDT, or GDT for a far JMP/CALL) is a gate delivery of type
// `task`: recorded for `expect.gate` and traced as a `gate` event, before the task switch it causes. A
// JMP/CALL straight to a TSS descriptor goes through no gate.

import Testing
@testable import Machine

struct TaskGateRoute: Sendable, CustomTestStringConvertible {
    var name: String
    /// Installs the route to task B (whose TSS selector is given) and returns the instruction that takes it.
    var setup: @Sendable (inout CPUFixture, UInt16) -> Instruction
    /// The gate expected: nil when the route uses none.
    var vector: UInt8?
    var dpl: UInt8?
    var pushed: [String] = []
    var firstFault: ExceptionVector? = nil
    var testDescription: String { name }
}

private let routes: [TaskGateRoute] = [
    TaskGateRoute(name: "INT 0x40 through a DPL-3 IDT task gate",
                  setup: { f, b in f.setGate(0x40, type: .taskGate, selector: b, offset: 0, dpl: 3); return .int(0x40) },
                  vector: 0x40, dpl: 3),
    TaskGateRoute(name: "#GP through a DPL-0 IDT task gate (error code pushed on the new stack)",
                  setup: { f, b in f.setGate(13, type: .taskGate, selector: b, offset: 0, dpl: 0); return .movToSegment(.ds, 0x1FB) },
                  vector: 13, dpl: 0, pushed: ["error code=0x1f8"], firstFault: .GP),
    TaskGateRoute(name: "far CALL through a DPL-3 GDT task gate",
                  setup: { f, b in
                      let g = f.addSystem(Descriptor.gate(type: .taskGate, selector: b, offset: 0, dpl: 3, present: true))
                      return .callFar(selector: g | 3, offset: 0)
                  }, vector: nil, dpl: 3),
    TaskGateRoute(name: "far JMP through a DPL-3 GDT task gate",
                  setup: { f, b in
                      let g = f.addSystem(Descriptor.gate(type: .taskGate, selector: b, offset: 0, dpl: 3, present: true))
                      return .jmpFar(selector: g | 3, offset: 0)
                  }, vector: nil, dpl: 3),
    TaskGateRoute(name: "far CALL straight to the TSS (no gate)", setup: { _, b in .callFar(selector: b, offset: 0) }, vector: nil, dpl: nil),
    TaskGateRoute(name: "far JMP straight to the TSS (no gate)", setup: { _, b in .jmpFar(selector: b, offset: 0) }, vector: nil, dpl: nil),
]

@Test("TASK-1: a task switch through a task gate is a gate delivery of type task, traced before the switch", arguments: routes)
func taskGateIsAGateDelivery(_ c: TaskGateRoute) {
    // CPL 0 so that the TSS of DPL 0 may be named directly, CPL 3 otherwise (the gates admit ring 3).
    var f = CPUFixture(.ia32, cpl: c.dpl == nil ? 0 : 3)
    let fromCPL = f.m.cpu.cpl
    let b = f.addTask(TaskImage(), dpl: 0)
    let instruction = c.setup(&f, b)
    let r = f.run(instruction)
    #expect(r.faults.first?.vector == c.firstFault, "\(faultList(r))")
    #expect(f.m.cpu.tr.selector & 0xFFFC == b, "the switch happened")
    let gates = f.m.trace.events.enumerated().filter { if case .gate = $0.element { return true }; return false }
    let switchNote = f.m.trace.events.firstIndex { if case let .note(s) = $0 { return s.hasPrefix("task switch") }; return false }
    guard let dpl = c.dpl else {
        #expect(gates.isEmpty, "a JMP/CALL to a TSS uses no gate")
        #expect(f.m.lastDelivery == nil)
        return
    }
    #expect(gates.count == 1)
    guard let (at, event) = gates.first.map({ ($0.offset, $0.element) }) else { return }
    #expect(event == .gate(vector: c.vector.map { Int($0) }, kind: "task", dpl: dpl, fromCPL: fromCPL, toCPL: 0,
                           stackSwitch: true, pushed: c.pushed))
    #expect(event.shortForms.contains("task gate"))
    if let switchNote { #expect(at < switchNote, "the gate is read before the switch") } else { Issue.record("no task-switch note") }
    let d = f.m.lastDelivery
    #expect(d?.type == "task" && d?.vector == c.vector && d?.dpl == dpl)
    #expect(d?.fromCPL == fromCPL && d?.toCPL == 0 && d?.stackSwitch == true)
    #expect(d?.pushed == c.pushed)
}

@Test("TASK-1: a task switch through a GDT task gate that fails before the commit point records no gate",
      arguments: [FarKind.jmp, .call])
func taskGateFailingBeforeCommitRecordsNoGate(_ kind: FarKind) {
    var f = CPUFixture(.ia32, cpl: 3)
    let b = f.addTask(TaskImage(), dpl: 0, limit: 0x66)   // TASK-3: below 0x67
    let g = f.addSystem(Descriptor.gate(type: .taskGate, selector: b, offset: 0, dpl: 3, present: true))
    let r = f.run(kind == .jmp ? .jmpFar(selector: g | 3, offset: 0) : .callFar(selector: g | 3, offset: 0))
    expectFirst(r, Expected(.TS, UInt32(b), "TASK-3"))
    #expect(!f.m.trace.events.contains { if case .gate(_, "task", _, _, _, _, _) = $0 { return true }; return false })
    #expect(f.m.lastDelivery?.type != "task")
}
