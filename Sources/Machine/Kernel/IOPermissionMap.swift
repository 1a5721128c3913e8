// IOPermissionMap: the I/O permission bit map a scenario's `io_ports` asks for, built as an operating system
// builds one (Linux ioperm(): every bit set, the granted ports' bits cleared, and the extra byte of ones after
// the map that SDM Vol. 1 §19.5.2 asks for, since the processor reads two bytes for every access).
//
//   TSS + map base + p/8, bit p mod 8: port p (0 = granted)   8192 bytes for ports 0-0xFFFF
//   TSS + map base + 0x2000: 0xFF                              the trailing byte; the TSS limit ends on it

public enum IOPermissionMap {
    /// One bit per port of the 64 KiB I/O space.
    public static let mapBytes = 0x2000
    /// Where the map starts when the scenario gives no `iomap`: right after the fixed part of the TSS (its
    /// minimum limit 0x67, for the 32-bit and the 64-bit TSS alike).
    public static let defaultBase = 0x68

    /// The map and its trailing byte (0x2001 bytes), granting `ports`.
    public static func bytes(granting ports: [ClosedRange<UInt16>]) -> [UInt8] {
        var map = [UInt8](repeating: 0xFF, count: mapBytes + 1)
        for range in ports {
            for p in range { map[Int(p) / 8] &= ~UInt8(1 << (Int(p) % 8)) }
        }
        return map
    }

    /// The TSS limit that ends on the trailing byte of a map at `base`.
    public static func limit(mapBase base: Int) -> UInt32 { UInt32(base + mapBytes) }

    /// The largest TSS image the model keeps: an I/O map base can be at most 0xFFFF, and the two bytes read for
    /// port 0xFFFF are then at 0xFFFF + 0x1FFF and one after.
    public static let largestImage = 0xFFFF + mapBytes + 1
}
