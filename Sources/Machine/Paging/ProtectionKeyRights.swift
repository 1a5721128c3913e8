/// PG-10 (Intel SDM Vol. 3A §4.6.2, protection keys): what PKRU lets a data access to a user page
/// (effective U/S = 1) with protection key `key` do. PKRU holds two bits per key: AD (bit 2k) refuses
/// every data access, WD (bit 2k+1) refuses writes made in user mode, and supervisor-mode writes only
/// when CR0.WP = 1. Instruction fetches are never checked. The page walk and the kernel model's user
/// copies (copy_from_user/copy_to_user are supervisor accesses to user pages) both ask here.
public enum ProtectionKeyRights {
    /// PKRU.ADk: every data access to a page with key `key` faults.
    public static func accessDisabled(pkru: UInt32, key: Int) -> Bool {
        (pkru >> (2 * UInt32(key & 0xF))) & 1 != 0
    }

    /// PKRU.WDk: writes to a page with key `key` fault (user mode, or supervisor mode with CR0.WP = 1).
    public static func writeDisabled(pkru: UInt32, key: Int) -> Bool {
        (pkru >> (2 * UInt32(key & 0xF) + 1)) & 1 != 0
    }

    /// Whether PKRU refuses this data access to a user page with key `key`.
    public static func refuses(pkru: UInt32, key: Int, write: Bool, user: Bool, wp: Bool) -> Bool {
        if accessDisabled(pkru: pkru, key: key) { return true }
        return write && writeDisabled(pkru: pkru, key: key) && (user || wp)
    }
}
