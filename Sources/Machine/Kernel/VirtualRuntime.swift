// VirtualRuntime: CFS's vruntime as an exact number (scenario-format.md, "cfs": a tick adds 1024/weight(nice)).
//
// Sums of 1024/weight in floating point are off by an ulp now and then, and the rules compare them for
// equality: "exceeds the smallest by more than one tick's worth" (3·d − 2·d is exactly d, not more) and
// "ties: lower pid". So vruntime counts whole units of 1/scale of a nice-0 tick, where scale is the least
// common multiple of the weights the kernel's tasks use (their nice values are fixed at the start; fork
// copies them): every tick then adds a whole number of units and every comparison is exact.
// Choice: should that multiple pass 2^80 (seven or more distinct weights, beyond any hand-written scenario),
// the scale stops growing and the remaining weights' increments are rounded to the nearest unit.

public struct VirtualRuntime: Sendable, Hashable, Comparable {
    /// Units of 1/scale of a nice-0 tick.
    public private(set) var units: Int128 = 0
    /// Units per nice-0 tick (the same for every task of one kernel).
    public let scale: Int128

    public init(scale: Int128) { self.scale = max(scale, 1) }

    /// The value in ticks of a nice-0 task (for reports and tests).
    public var ticks: Double { Double(units) / Double(scale) }

    /// The increase of one tick at this nice value: 1024 / weight(nice), in units.
    public func perTick(nice: Int) -> Int128 {
        let w = Int128(System.weight(nice: nice))
        return (1024 * scale + w / 2) / w
    }

    /// A number of units in nice-0 ticks with two decimals (`3.06`), for the trace.
    public func text(_ units: Int128) -> String {
        let hundredths = (units * 100 + scale / 2) / scale
        let frac = hundredths % 100
        return "\(hundredths / 100).\(frac < 10 ? "0" : "")\(frac)"
    }

    /// One tick charged at this nice value.
    public mutating func charge(nice: Int) { units += perTick(nice: nice) }

    /// How far this value is above another (negative when below).
    public func excess(over other: VirtualRuntime) -> Int128 { units - other.units }

    public static func < (a: VirtualRuntime, b: VirtualRuntime) -> Bool { a.units < b.units }

    /// The scale for tasks with these nice values: the least common multiple of their weights, capped.
    public static func scale(forNice nices: [Int]) -> Int128 {
        var l: Int128 = 1
        for w in Set(nices.map { Int128(System.weight(nice: $0)) }).sorted() {
            let next = l / gcd(l, w) * w
            if next > Int128(1) << 80 { break }
            l = next
        }
        return l
    }

    static func gcd(_ a: Int128, _ b: Int128) -> Int128 {
        var (x, y) = (a, b)
        while y != 0 { (x, y) = (y, x % y) }
        return x
    }
}
