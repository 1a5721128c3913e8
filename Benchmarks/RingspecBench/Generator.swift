// A seeded generator of varied, valid scenarios for the benchmark corpus: two or three tasks,
// 5-10 steps, at least one fault and one context switch, about 2-3 KiB each. Every expectation is
// derived from the model's documented rules (rr scheduling with a 1-tick slice, demand paging of a
// heap VMA, the syscall ABIs), so every generated file passes `ringspec run`.

/// SplitMix64: small, fast, and the same sequence on every platform for a seed.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func pick<T>(_ a: [T]) -> T { a[int(a.count)] }
    mutating func chance(_ percent: Int) -> Bool { int(100) < percent }
}

enum CorpusGenerator {
    static let words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
                        "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango"]

    struct TaskModel {
        var name: String
        var pid: Int
        var heapStart: UInt64
        var pages: Int
        var touched: Set<Int> = []
    }

    /// One scenario file's text for index `index` of the corpus of `seed`.
    static func scenario(seed: UInt64, index: Int) -> String {
        var rng = SplitMix64(seed: seed &* 0x1000_0001 &+ UInt64(index))
        let long = rng.chance(50)
        let mode = long ? "x86_64" : "ia32"
        let paging = long ? "4level" : rng.pick(["32bit", "pae"])
        let nTasks = 2 + rng.int(2)
        var tasks: [TaskModel] = []
        let base = rng.pick(words)
        for i in 0..<nTasks {
            let start: UInt64 = 0x1000_0000 + UInt64(rng.int(64)) * 0x10_0000 + UInt64(i) * 0x400_0000
            tasks.append(TaskModel(name: "\(base)\(i)", pid: 100 + rng.int(800) * 4 + i, heapStart: start, pages: 2 + rng.int(7)))
        }
        var current = 0
        var queue = Array(1..<nTasks)           // rr run queue after the current task
        var switches = 0, faults = 0
        var output = ""
        var schedule = [tasks[0].name]
        var ticks = Array(repeating: 0, count: nTasks)
        var steps: [String] = []
        let nSteps = 5 + rng.int(6)
        // Make sure a fault and a switch happen: pick their positions up front.
        let faultAt = rng.int(nSteps)
        var switchAt = rng.int(nSteps)
        if switchAt == faultAt { switchAt = (switchAt + 1) % nSteps }

        func rotate(_ reason: String, _ lines: inout [String]) {
            let from = current
            queue.append(current)
            current = queue.removeFirst()
            switches += 1
            schedule.append(tasks[current].name)
            lines.append("      switch: {from: \(tasks[from].name), to: \(tasks[current].name), reason: \(reason)}")
            lines.append("      current: \(tasks[current].name)")
            lines.append("      states: {\(tasks[from].name): ready, \(tasks[current].name): running}")
        }

        for s in 0..<nSteps {
            var kind = rng.int(6)
            if s == faultAt { kind = 0 }
            if s == switchAt { kind = rng.chance(70) ? 1 : 2 }
            var lines: [String] = []
            let t = tasks[current]
            switch kind {
            case 0:   // an access of a heap page: demand paging on the first touch
                let page = rng.int(t.pages)
                let addr = t.heapStart + UInt64(page) * 0x1000 + UInt64(rng.int(0x3FF)) * 4
                let write = rng.chance(50)
                lines.append("  # \(t.name) touches heap page \(page) (\(write ? "write" : "read"))")
                lines.append("  - access: {op: \(write ? "write" : "read"), addr: \(hex(addr))}")
                lines.append("    expect:")
                if tasks[current].touched.contains(page) {
                    lines.append("      fault: none")
                } else {
                    tasks[current].touched.insert(page)
                    faults += 1
                    lines.append("      faults: [PF]")
                    lines.append("      fault: {vector: PF, error_code: \(write ? "0x6" : "0x4"), cr2: \(hex(addr))}")
                    if write { lines.append("      dirty: true") } else { lines.append("      accessed: true") }
                }
            case 1:   // a timer tick ends the 1-tick slice: a context switch
                lines.append("  # the timer ends \(t.name)'s slice")
                lines.append("  - timer: 1")
                lines.append("    expect:")
                if kind == 1 && rng.chance(50) {
                    lines.append("      gate: {vector: 0x20, type: interrupt, from_cpl: 3, to_cpl: 0, stack_switch: true}")
                }
                ticks[current] += 1
                rotate("timer", &lines)
                lines.append("      cpl: 3")
            case 2:   // sched_yield: also a context switch
                let via = long ? rng.pick(["syscall", "int80"]) : "int80"
                lines.append("  # \(t.name) yields through \(via)")
                lines.append("  - syscall: {via: \(via), nr: sched_yield}")
                lines.append("    expect:")
                rotate("yield", &lines)
            case 3:   // write(1, text, len)
                let text = "\(rng.pick(words)) \(rng.pick(words)) \(rng.int(1000))\\n"
                let len = text.utf8.count - 1  // "\\n" is one byte
                let via = long ? rng.pick(["syscall", "int80"]) : "int80"
                lines.append("  # \(t.name) writes a line to stdout")
                lines.append("  - syscall: {via: \(via), nr: write, args: [1, \"\(text)\", \(len)]}")
                lines.append("    expect: {returns: \(len), output: \"\(text)\", cpl: 3}")
                output += text
            case 4:   // getpid
                let via = long ? rng.pick(["syscall", "int80"]) : "int80"
                lines.append("  # \(t.name) asks for its pid")
                lines.append("  - syscall: {via: \(via), nr: getpid}")
                lines.append("    expect: {returns: \(t.pid), current: \(t.name)}")
            default:  // one instruction at CPL 3
                let v = rng.int(0x10000)
                let reg = long ? rng.pick(["rbx", "rcx", "rsi"]) : rng.pick(["ebx", "ecx", "esi"])
                if rng.chance(30) {
                    lines.append("  - exec: \"nop\"")
                    lines.append("    expect: {fault: none, cpl: 3}")
                } else {
                    lines.append("  # \(t.name) loads an immediate")
                    lines.append("  - exec: \"mov \(reg), \(hex(UInt64(v)))\"")
                    lines.append("    expect: {fault: none, regs: {\(reg): \(hex(UInt64(v)))}}")
                }
            }
            steps.append(lines.joined(separator: "\n"))
        }

        var out: [String] = []
        let id = "bench-\(seed)-\(index)-\(base)-\(mode)"
        out.append("# Generated by ringspec-bench (seed \(seed), scenario \(index)): \(nTasks) tasks under round robin")
        out.append("# with a one-tick slice, \(nSteps) steps, demand-paged heaps and context switches.")
        out.append("scenario: \(id)")
        out.append("description: >")
        out.append("  \(nTasks) tasks in \(mode) mode with \(paging) paging. Each task has a heap VMA that the kernel")
        out.append("  populates on demand: the first touch of a page raises #PF (not present) and is retried;")
        out.append("  timer ticks and sched_yield move the current task to the tail of the run queue.")
        out.append("tags: [bench, generated, \(mode), \(paging)]")
        out.append(long ? "machine: {mode: x86_64}" : "machine: {mode: ia32, paging: \(paging)}")
        out.append("kernel:")
        out.append("  scheduler: {policy: rr, timeslice: 1}")
        out.append("processes:")
        for (i, t) in tasks.enumerated() {
            out.append("  - name: \(t.name)")
            out.append("    pid: \(t.pid)")
            out.append("    state: \(i == 0 ? "running" : "ready")")
            out.append("    memory:")
            out.append("      - {segment: heap, start: \(hex(t.heapStart)), pages: \(t.pages), perm: \"rw-\"}")
        }
        out.append("steps:")
        out.append(contentsOf: steps)
        out.append("expect:")
        out.append("  switches: \(switches)")
        out.append("  schedule: [\(schedule.joined(separator: ", "))]")
        if !output.isEmpty { out.append("  output: \"\(output)\"") }
        out.append("  processes:")
        for (i, t) in tasks.enumerated() {
            out.append("    \(t.name): {state: \(i == current ? "running" : "ready"), ticks: \(ticks[i])}")
        }
        _ = faults
        return out.joined(separator: "\n") + "\n"
    }

    static func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
}
