// PendingInterrupts: external interrupts that arrived while the CPU could not take them.
//
// A maskable interrupt is recognised only at an instruction boundary with IF = 1 and no interrupt
// shadow (SDM Vol. 3A §6.8.1, §6.8.3; STI in Vol. 2B). Until then it stays requested at the interrupt
// controller: one request per line (the 8259's IRR bit), so a second request on a line that is
// already pending merges with it. The model takes pending requests, oldest first, at the end of the
// first step that leaves the CPU able to take them (after the instruction that follows STI, after
// an IRET, a `set` of IF, ...).

/// An external interrupt held by the interrupt controller.
struct PendingInterrupt: Sendable, Equatable {
    /// The IDT vector it will be delivered through.
    var vector: UInt8
    /// Tasks the device's event wakes when the handler runs (`irq: {wakes: NAME}`).
    var wakes: [String]
}

extension System {
    /// Whether the CPU can take a maskable interrupt at this boundary.
    var acceptsExternalInterrupts: Bool {
        machine.cpu.interruptsEnabled && !machine.interruptShadow && !machine.shutdown
    }

    /// Records `requests` requests of `vector` as made but not taken: IF = 0, or the boundary is in
    /// an interrupt shadow. They merge into one pending request.
    mutating func holdExternal(_ vector: UInt8, wakes: [String], requests: Int = 1) {
        let why = machine.cpu.interruptsEnabled ? "the instruction boundary after STI or MOV SS inhibits interrupts" : "IF=0"
        let hex = String(vector, radix: 16)
        let what = requests == 1 ? "interrupt 0x\(hex)" : "\(requests) requests of interrupt 0x\(hex)"
        if let i = pendingInterrupts.firstIndex(where: { $0.vector == vector }) {
            for w in wakes where !pendingInterrupts[i].wakes.contains(w) { pendingInterrupts[i].wakes.append(w) }
            machine.trace.record(.note("\(why): \(what) merge with the one already pending (one request per line)"))
        } else {
            pendingInterrupts.append(PendingInterrupt(vector: vector, wakes: wakes))
            let merged = requests == 1 ? "" : ", merged into one request (one request per line)"
            machine.trace.record(.note("\(why): \(what) held pending\(merged), taken when the CPU can take it"))
        }
    }

    /// Delivers the pending interrupts the CPU can take now, oldest first (one delivery through an
    /// interrupt gate clears IF, which holds the rest).
    mutating func deliverPendingInterrupts(_ out: inout StepOutcome) {
        while !pendingInterrupts.isEmpty && acceptsExternalInterrupts && out.error == nil {
            let p = pendingInterrupts.removeFirst()
            machine.trace.record(.note("IF=1: the pending interrupt 0x\(String(p.vector, radix: 16)) is taken at this boundary"))
            // One delivery; the handler wakes every task whose event was merged into this request.
            deliverExternal(p.vector, wakes: p.wakes, &out)
        }
    }
}

extension System {
    /// Why a system call (a `syscall`, `wait` or `exit` step, or an `exec` of SYSCALL, SYSENTER or INT 0x80
    /// that reaches the kernel's entry) cannot be modelled now, or nil. Linux enables interrupts
    /// at the start of every system call, whatever the caller's IF (kernel/entry/common.c
    /// syscall_enter_from_user_mode -> local_irq_enable, reached from do_syscall_64, do_int80_syscall_32 and
    /// do_fast_syscall_32), so a request held pending would be taken inside the call, at CPL 0 on the
    /// task's kernel stack, before the call's own work: the tick charged or the task woken there, and
    /// schedule() perhaps run by that interrupt. The step is refused rather than guessed.
    /// `callerIF` is the caller's IF before the entry (an interrupt shadow when set).
    func systemCallRefusalForPendingInterrupts(callerIF: Bool) -> String? {
        guard let first = pendingInterrupts.first else { return nil }
        let vectors = pendingInterrupts.map { "0x" + String($0.vector, radix: 16) }.joined(separator: ", ")
        let why = callerIF ? "in the interrupt shadow after STI or MOV SS" : "with IF = 0"
        return "a system call while interrupt \(vectors) is held pending (\(why)): Linux enables "
            + "interrupts on system-call entry (kernel/entry/common.c syscall_enter_from_user_mode), so interrupt "
            + "0x\(String(first.vector, radix: 16)) would be taken inside the call; let the task take it first (`sti` and one instruction)"
    }
}
