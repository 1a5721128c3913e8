// BriefExplainer: `ringspec explain --brief`, the story of a run that a student follows, without the
// micro detail. Per step it keeps every fault (vector, error code, CR2, the rule and its SDM section),
// escalations, mode changes (`user A -> kernel A`), each gate delivery in one line, segment loads,
// system-call dispatch and return, schedule() with its reason, context switches, the kernel's actions
// (signals, exits, wake-ups, demand paging), console output and the step's result lines. It leaves
// out TLB lookups, page-walk entries, stack switches (the gate line says whether one happened),
// pushed-value lists and register values. A `timer` step is told tick by tick, one line a tick; a run
// of ticks whose stories are the same apart from the tick number is one line ("ticks 4-9: ..."), and
// a cycle of ticks that repeats (round robin among three tasks) is told once, then counted.

import Machine

/// How much of a run `explain` tells.
public enum ExplainDetail: String, Sendable, CaseIterable {
    /// Every micro-event: TLB lookups, page walks entry by entry, stack switches, pushed values.
    case full
    /// What a student must learn from, with long timer steps collapsed (`--brief`).
    case brief
}

extension Explainer {
    /// One event of the brief story: its first line, then continuation lines (a fault's `why`).
    typealias BriefItem = [String]

    /// The longest tick cycle, in runs of equal ticks, that `--brief` looks for (a cycle of three tasks
    /// under rr is 6 runs; priority and cfs mixes are longer).
    static let briefMaxCycle = 64

    /// The brief story of one step's events, then its result lines are added by `render`.
    static func briefStep(_ spec: ScenarioSpec, _ r: RunRecord, step i: Int, range: Range<Int>) -> String {
        let legacy = spec.machine.mode == .ia32
        let events = r.trace.indices.clamped(to: range)
        guard !events.isEmpty else { return "  - nothing happens that the trace records\n" }
        let ticks = i < r.outcomes.count
            ? r.outcomes[i].ticks.filter { events.contains($0.traceRange.lowerBound) && $0.traceRange.upperBound <= events.upperBound } : []
        func told(_ range: Range<Int>) -> String {
            briefItems(r.trace, range, spec: spec, legacy: legacy).map { "  - " + $0.joined(separator: "\n      ") + "\n" }.joined()
        }
        guard case let .timer(n) = spec.steps[i].event, let first = ticks.first else {
            let text = told(events)
            if !text.isEmpty { return text }
            // Only micro detail was recorded: say who was running, count the detail, point at the full form.
            var out = ""
            if let at = events.first(where: { if case .modeSwitch = r.trace[$0] { true } else { false } }) {
                out += "  - " + sentence(r.trace[at], legacy: legacy) + "\n"
            }
            let micro = microCounts(r.trace[events])
            if !micro.isEmpty { out += "  - only micro detail: \(micro) (run without --brief to see it)\n" }
            return out
        }
        // Events before the first tick (none, as the kernel tells a timer step today) are told as a step's.
        var out = told(events.lowerBound..<first.traceRange.lowerBound)
        // Each tick's story, interned: equal stories get the same id.
        var ids: [Int] = []
        var stories: [TickStory] = []
        var index: [TickStory: Int] = [:]
        for tick in ticks {
            let story = tickStory(tick, r.trace, tick.traceRange, spec: spec, legacy: legacy)
            if let id = index[story] {
                ids.append(id)
            } else {
                index[story] = stories.count
                ids.append(stories.count)
                stories.append(story)
            }
        }
        // Runs of consecutive equal ticks.
        var units: [TickRun] = []
        var tickNumber = 1
        for (k, id) in ids.enumerated() {
            if let last = units.last, last.story == id, ticks[k].count == 1, !stories[id].held {
                units[units.count - 1].count += 1
            } else {
                units.append(TickRun(story: id, first: tickNumber, count: ticks[k].count))
            }
            tickNumber += ticks[k].count
        }
        out += tellRuns(units, stories)
        let after = (ticks.last?.traceRange.upperBound ?? events.lowerBound)..<events.upperBound
        if tickNumber <= n && r.traceTruncated {
            // The trace stopped recording (its event limit): the later ticks ran but are not told.
            out += "  - \(tickLabel(tickNumber, n)): not told: the trace reached its limit of events (they ran; the step's result below is the whole step's)\n"
        } else {
            out += told(after)
            // The step stopped before its last tick: a triple fault, or a tick the model refused.
            if tickNumber <= n { out += "  - \(tickLabel(tickNumber, n)): not run: the step stopped before them\n" }
        }
        return out
    }

    /// The result lines only the brief adds: where an `access` landed (its page walk is not told), and a
    /// timer step's context switches counted (a repeated cycle tells them once).
    static func briefResults(_ event: KernelEvent, _ o: StepOutcome) -> String {
        var out = ""
        if case let .access(kind, address, _, _, _) = event, let a = o.access {
            out += "  = the \(kind.rawValue) at \(hex(address)) reaches physical address \(hex(a.physical)) (the leaf entry now has A=\(a.accessed ? 1 : 0), D=\(a.dirty ? 1 : 0))\n"
        }
        if case let .timer(n) = event, n > 1, !o.switches.isEmpty {
            var pairs: [String] = []
            var times: [String: Int] = [:]
            for s in o.switches {
                let pair = "\(s.from) -> \(s.to)"
                if times[pair] == nil { pairs.append(pair) }
                times[pair, default: 0] += 1
            }
            let list = pairs.map { p in times[p].map { $0 == 1 ? p : "\(p) \($0) times" } ?? p }
            out += "  = \(o.switches.count) context switch\(o.switches.count == 1 ? "" : "es") in this step: \(list.joined(separator: ", "))\n"
        }
        return out
    }

    /// The micro detail of some events, counted: `2 TLB hits, 1 TLB miss, 1 page walk`.
    static func microCounts(_ events: ArraySlice<TraceEvent>) -> String {
        var hits = 0, misses = 0, walks = 0, flushes = 0, stacks = 0, other = 0
        for e in events {
            switch e {
            case let .tlb(_, hit): if hit { hits += 1 } else { misses += 1 }
            case .pageWalk: walks += 1
            case .tlbFlush: flushes += 1
            case .stackSwitch: stacks += 1
            case .modeSwitch, .note: break
            default: other += 1
            }
        }
        func n(_ k: Int, _ one: String, _ many: String) -> String? { k == 0 ? nil : "\(k) \(k == 1 ? one : many)" }
        return [n(hits, "TLB hit", "TLB hits"), n(misses, "TLB miss", "TLB misses"), n(walks, "page walk", "page walks"),
                n(flushes, "TLB flush", "TLB flushes"), n(stacks, "stack switch", "stack switches"), n(other, "other event", "other events")]
            .compactMap { $0 }.joined(separator: ", ")
    }

    /// One tick as the brief tells it: a header and the events' items.
    struct TickStory: Hashable {
        var header: String
        var items: [BriefItem]
        var held: Bool
        /// Context switches (`A -> B`) and faults (`#PF (PG-1)`), for the line that counts a repeated cycle.
        var switches: [String]
        var faults: [String]
    }

    /// A run of consecutive ticks with the same story.
    struct TickRun: Equatable {
        var story: Int
        var first: Int
        var count: Int
        var last: Int { first + count - 1 }
    }

    static func tickStory(_ tick: TimerTick, _ trace: [TraceEvent], _ range: Range<Int>, spec: ScenarioSpec, legacy: Bool) -> TickStory {
        let header: String
        if tick.held {
            header = tick.count == 1 ? "the CPU cannot take the interrupt now" : "the CPU cannot take these interrupts now"
        } else if tick.charged {
            header = "timer interrupt charged to \(tick.running)"
        } else if !spec.kernel.enabled {
            header = "timer interrupt"
        } else {
            header = tick.running == "idle" ? "timer interrupt while idle, charged to no task" : "timer interrupt, charged to no task"
        }
        var items = briefItems(trace, range, spec: spec, legacy: legacy)
        var switches: [String] = [], faults: [String] = []
        var scheduled = false
        for e in trace[range] {
            switch e {
            case let .contextSwitch(from, to, _, _): switches.append("\(from) -> \(to)")
            case let .fault(f): faults.append("\(f.vector) (\(f.rule))")
            case .schedule: scheduled = true
            default: break
            }
        }
        // A tick that neither switched nor ran schedule() (whose item says so itself) says it kept the task.
        if spec.kernel.enabled && !tick.held && switches.isEmpty && !scheduled { items.append(["no switch"]) }
        return TickStory(header: header, items: items, held: tick.held, switches: switches, faults: faults)
    }

    static func tickLabel(_ first: Int, _ last: Int) -> String {
        first == last ? "tick \(first)" : "ticks \(first)-\(last)"
    }

    /// The tick runs, with each repeated cycle of runs told once and then counted.
    static func tellRuns(_ units: [TickRun], _ stories: [TickStory]) -> String {
        var out = ""
        var i = 0
        while i < units.count {
            if let (period, repeats) = cycle(at: i, in: units) {
                for u in units[i..<(i + period)] { out += tell(u, stories[u.story]) }
                let cycleFirst = units[i].first, cycleLast = units[i + period - 1].last
                let restFirst = cycleLast + 1, restLast = units[i + period * (repeats + 1) - 1].last
                let cycleStories = units[i..<(i + period)].map { stories[$0.story] }
                let switches = cycleStories.flatMap(\.switches), faults = cycleStories.flatMap(\.faults)
                var each: [String] = []
                if !faults.isEmpty { each.append("fault\(faults.count == 1 ? "" : "s") " + faults.joined(separator: ", ")) }
                each.append(switches.isEmpty ? "no switch" : "switch\(switches.count == 1 ? "" : "es") " + switches.joined(separator: ", "))
                out += "  - \(tickLabel(restFirst, restLast)): the cycle of \(tickLabel(cycleFirst, cycleLast)) again, "
                    + "\(repeats == 1 ? "once more" : "\(repeats) more times") (each time: \(each.joined(separator: "; ")))\n"
                i += period * (repeats + 1)
            } else {
                out += tell(units[i], stories[units[i].story])
                i += 1
            }
        }
        return out
    }

    /// The shortest cycle of at least two runs that starts at `i` and repeats right after itself, and how
    /// many more times it does; nil when none does. (Runs are equal when their stories and lengths are.)
    static func cycle(at i: Int, in units: [TickRun]) -> (Int, Int)? {
        func same(_ a: Int, _ b: Int) -> Bool { units[a].story == units[b].story && units[a].count == units[b].count }
        var period = 2
        while period <= briefMaxCycle && i + 2 * period <= units.count {
            if (0..<period).allSatisfy({ same(i + $0, i + period + $0) }) {
                var repeats = 1
                while i + (repeats + 2) * period <= units.count,
                      (0..<period).allSatisfy({ same(i + $0, i + (repeats + 1) * period + $0) }) {
                    repeats += 1
                }
                return (period, repeats)
            }
            period += 1
        }
        return nil
    }

    /// One run of ticks: one line when every item is one line, else the header and the items under it.
    static func tell(_ u: TickRun, _ s: TickStory) -> String {
        let label = tickLabel(u.first, u.last)
        if s.items.allSatisfy({ $0.count == 1 }) {
            return "  - \(label): " + ([s.header] + s.items.map { $0[0] }).joined(separator: "; ") + "\n"
        }
        return "  - \(label): \(s.header)\n" + s.items.map { "      - " + $0.joined(separator: "\n          ") + "\n" }.joined()
    }

    /// The brief items of some events: the micro detail dropped, a fast entry or return folded into the
    /// mode change it makes.
    static func briefItems(_ trace: [TraceEvent], _ range: Range<Int>, spec: ScenarioSpec, legacy: Bool) -> [BriefItem] {
        var items: [BriefItem] = []
        // SYSENTER/SYSCALL/IRET/SYSRET/...: told with the mode change that follows (`kernel A -> user A (IRET)`).
        var pending: (via: String, alone: String)?
        var afterSwitch = false
        func flush() {
            if let p = pending { items.append([p.alone]) }
            pending = nil
        }
        for at in range {
            let e = trace[at]
            switch e {
            case .tlb, .pageWalk, .stackSwitch:
                continue
            case let .modeSwitch(_, from, to) where from == to:
                continue
            case let .note(s) where s.hasPrefix("TLB entry for "):
                continue
            case let .tlbFlush(kind, _) where kind == "cr3" && afterSwitch:
                // switch_mm's CR3 load, part of the context switch just told.
                continue
            case let .modeSwitch(task, from, to):
                let text = "\(level(from)) \(task) -> \(level(to)) \(task)"
                items.append([text + (pending.map { " (\($0.via))" } ?? "")])
                pending = nil
            case let .fastEntry(instr, _, _, _, _):
                flush()
                pending = (instr.uppercased(), "\(instr.uppercased()) enters the kernel at CPL 0")
            case let .fastReturn(instr, cs, _, _, _):
                flush()
                pending = (instr.uppercased(), "\(instr.uppercased()) returns to CPL \(cs & 3)")
            case let .schedule(reason, atReturn):
                flush()
                var s = "schedule() (\(reason))\(atReturn ? " on the way back from the system call" : ""): \(briefReason(reason, spec.kernel.policy))"
                if !switchFollows(trace, after: at, within: range) { s += "; it picks the running task again: no switch" }
                items.append([s])
            default:
                flush()
                items.append(briefItem(e, legacy: legacy))
            }
            if case .contextSwitch = e { afterSwitch = true } else { afterSwitch = false }
        }
        flush()
        return items
    }

    static func level(_ cpl: UInt8) -> String {
        cpl == 3 ? "user" : cpl == 0 ? "kernel" : "ring \(cpl)"
    }

    /// Why schedule() ran, in a few words.
    static func briefReason(_ reason: String, _ policy: SchedulingPolicy) -> String {
        switch reason {
        case "timer":
            switch policy {
            case .rr, .priority: "the running task used up its time slice (\(policy.rawValue))"
            case .cfs: "vruntime more than one tick ahead (cfs)"
            case .fifo: "the timer set need_resched"
            }
        case "yield": "the task gave up the CPU (sched_yield)"
        case "blocking": "the task blocked"
        case "exit": "the task exited"
        case "wakeup": "a woken task is more important than the running one"
        case "syscall_return": "need_resched was set, and the return from the system call checks it"
        case "signal": "a signal changed which task can run"
        case "explicit": "the scenario called it"
        default: reason
        }
    }

    /// One event the brief keeps, in a line or two.
    static func briefItem(_ e: TraceEvent, legacy: Bool) -> BriefItem {
        switch e {
        case let .gate(vector, kind, dpl, from, to, switched, _):
            let stack = switched ? (from == to ? "yes (IST)" : "yes") : "no"
            guard let vector else {
                let how = kind.contains("jmp") ? "far JMP" : "far CALL"
                return ["\(kind) (DPL \(dpl), \(how)): CPL \(from) -> \(to), stack switch: \(stack)"]
            }
            let name = ExceptionVector(rawValue: UInt8(truncatingIfNeeded: vector)).map { "\($0.description), " } ?? ""
            if kind == "task" {
                return ["gate \(hex(UInt64(vector))) (\(name)task gate, DPL \(dpl)): a task switch (TASK-1), CPL \(from) -> \(to)"]
            }
            return ["gate \(hex(UInt64(vector))) (\(name)\(kind) gate, DPL \(dpl)): CPL \(from) -> \(to), stack switch: \(stack)"]
        case let .fault(f):
            var s = "FAULT \(f.vector) (\(f.vector.title)), vector \(f.vector.rawValue)"
            if let c = f.errorCode { s += ", error code \(hex(UInt64(c))) = " + decodeErrorCode(f.vector, c) }
            if let cr2 = f.cr2 { s += ", CR2=\(hex(cr2))" }
            return [s, "why: rule \(f.rule) (\(RuleBook.title(f.rule)); \(RuleBook.reference(f.rule))): \(f.reason)"]
        case let .syscall(_, table, number, name, args):
            return ["system call \(name), number \(number) in the \(table) table: \(name)(\(args.map { hex($0) }.joined(separator: ", ")))"]
        case let .syscallReturn(name, value):
            return ["\(name) returns \(value)\(errnoName(value))"]
        case let .contextSwitch(from, to, reason, _):
            return ["context switch \(from) -> \(to) (\(reason))"]
        default:
            return sentence(e, legacy: legacy).split(separator: "\n", omittingEmptySubsequences: false).map {
                String($0.drop { $0 == " " })
            }
        }
    }
}
