// PresetCache: the linux preset's machine, built once per set of inputs and copied into every
// scenario that asks for it. The preset part of `System.build` (the template address space with
// the kernel half, the idle task's kernel stack, the IST stacks, the preset GDT and IDT) depends
// only on the mode, vendor, paging mode and the control registers the scenario leaves; building
// it costs page-table writes, frame allocations and two table encodings, while copying the
// finished `System` copies a few array references (copy on write).
//
// The cache is shared by every thread (`ringspec run --jobs N`): a Mutex guards it, and the
// values are immutable once stored. It is bounded: control-register edits come from input, so
// beyond `capacity` distinct keys a build simply computes its preset without storing it.

import Synchronization

/// Everything the preset part of a build depends on (the control registers as the scenario's
/// edits left them, before any task exists).
struct PresetKey: Hashable, Sendable {
    var mode: MachineMode
    var vendor: CPUVendor
    var paging: PagingMode
    var cr0: UInt64
    var cr4: UInt64
    var efer: UInt64
    var pkru: UInt32
}

/// The machine and kernel as the preset leaves them, with the tops of the IST stacks it allocated.
struct PresetState: Sendable {
    var system: System
    var istTops: [UInt8: UInt64]
}

/// The process-wide cache of preset states.
enum PresetCache {
    /// The most distinct presets kept.
    static let capacity = 64

    private static let states = Mutex<[PresetKey: PresetState]>([:])

    /// The cached state for `key`, or a new one from `make` (stored when there is room).
    static func state(for key: PresetKey, make: () throws(MachineError) -> PresetState) throws(MachineError) -> PresetState {
        if let hit = states.withLock({ $0[key] }) { return hit }
        let made = try make()
        states.withLock { table in
            if table.count < capacity, table[key] == nil { table[key] = made }
        }
        return made
    }
}
