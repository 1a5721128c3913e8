// copy_from_user / copy_to_user under protection keys. The kernel's copies are supervisor data accesses to
// user pages, which PKRU governs too (PG-10, Intel SDM Vol. 3A §4.6.2): AD refuses them, WD refuses a
// copy_to_user when CR0.WP = 1. The #PF they raise has PK set, and Linux's access_error
// (arch/x86/mm/fault.c) returns true for X86_PF_PK before it looks at the VMA ("Read or write was blocked by
// protection keys. This is always an unconditional error and can never result in a follow-up action to
// resolve the fault, like a COW"), so the fault goes to the exception-table fix-up: -EFAULT (or the short
// count of a partial copy), never demand paging or a write-protect fault.

extension System {
    /// Whether PKRU refuses the kernel's copy of the present page holding `addr` (4-level paging with CR4.PKE,
    /// a user page); records why in the trace when it does.
    mutating func protectionKeyRefusesUserCopy(_ addr: UInt64, write: Bool) -> Bool {
        let c = machine.pagingControl
        guard c.pke, c.mode == .level4,
              let r = machine.paging.rights(for: addr, cr3: machine.cpu.cr3, mode: c.mode, pse: c.pse, nxe: c.nxe)?.rights,
              r.user else { return false }
        let key = Int(r.protectionKey)
        guard ProtectionKeyRights.refuses(pkru: c.pkru, key: key, write: write, user: false, wp: c.wp) else { return false }
        let bit = ProtectionKeyRights.accessDisabled(pkru: c.pkru, key: key) ? "AD\(key)" : "WD\(key) (CR0.WP=1)"
        machine.trace.record(.kernelAction(
            "\(write ? "copy_to_user" : "copy_from_user") at 0x\(String(addr, radix: 16)): protection key \(key) with PKRU.\(bit)=1 refuses the kernel's access (#PF with PK; access_error -> fix-up: -EFAULT)"))
        return true
    }
}
