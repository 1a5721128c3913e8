// TEMPORARY stub until the paging unit lands.
public struct PhysicalMemory: Sendable {
    var bytes: [UInt64: UInt8] = [:]
    public func read(_ pa: UInt64, size: Int) -> UInt64 { var v: UInt64 = 0; for i in 0..<size { v |= UInt64(bytes[pa + UInt64(i)] ?? 0) << (8 * UInt64(i)) }; return v }
    public mutating func write(_ pa: UInt64, value: UInt64, size: Int) { for i in 0..<size { bytes[pa + UInt64(i)] = UInt8((value >> (8 * UInt64(i))) & 0xFF) } }
}
public struct TLB: Sendable { public mutating func invlpg(_ a: UInt64) {}; public mutating func flushNonGlobal() {}; public mutating func flushAll() {} }
public struct PagingUnit: Sendable {
    public var memory = PhysicalMemory()
    public var tlb = TLB()
    public init() {}
    public mutating func translate(_ linear: UInt64, _ access: MemoryAccess, _ control: PagingControl, trace: inout Trace) throws(Fault) -> UInt64 { linear }
    public mutating func loadPDPTEs(cr3: UInt64) throws(Fault) {}
}
