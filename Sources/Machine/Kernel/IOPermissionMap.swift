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
    ///
    /// The ranges are merged first, so the work is bounded by the 64 KiB I/O space, not by the sum of the
    /// ranges' sizes: a scenario listing `{from: 0, to: 0xffff}` two thousand times built for minutes, far past
    /// the time limit, which is only checked once the machine is built (docs/reliability.md, seventh run).
    public static func bytes(granting ports: [ClosedRange<UInt16>]) -> [UInt8] {
        var map = [UInt8](repeating: 0xFF, count: mapBytes + 1)
        for range in merged(ports) {
            for p in range { map[Int(p) / 8] &= ~UInt8(1 << (Int(p) % 8)) }
        }
        return map
    }

    /// `ranges` sorted and merged where they overlap or touch: disjoint ranges that grant the same ports.
    public static func merged(_ ranges: [ClosedRange<UInt16>]) -> [ClosedRange<UInt16>] {
        var out: [ClosedRange<UInt16>] = []
        for r in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = out.last, Int(r.lowerBound) <= Int(last.upperBound) + 1 {
                out[out.count - 1] = last.lowerBound...max(last.upperBound, r.upperBound)
            } else {
                out.append(r)
            }
        }
        return out
    }

    /// The TSS limit that ends on the trailing byte of a map at `base`.
    public static func limit(mapBase base: Int) -> UInt32 { UInt32(base + mapBytes) }

    /// The largest TSS image the model keeps: an I/O map base can be at most 0xFFFF, and the two bytes read for
    /// port 0xFFFF are then at 0xFFFF + 0x1FFF and one after.
    public static let largestImage = 0xFFFF + mapBytes + 1
}
