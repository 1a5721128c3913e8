// Runner: builds the machine for a scenario, runs its steps in order, checks each step's `expect`
// and the final `expect`, and fails a step that raised an exception its `expect` does not mention.

import Machine

/// Limits on one run, each a named default the CLI can change.
public struct RunLimits: Sendable {
    /// Total timer ticks a scenario may ask for across its steps.
    public static let defaultTickBudget = 20_000_000
    /// Wall-clock seconds one scenario may run.
    public static let defaultTimeLimitSeconds = 10.0
    public var tickBudget = RunLimits.defaultTickBudget
    public var timeLimitSeconds = RunLimits.defaultTimeLimitSeconds
    /// Whether to keep the trace (needed by `expect.trace` and `explain`).
    public var keepTrace = true
    public init() {}
}

/// What one scenario's run produced, for reports and for `explain` / `--update`.
public struct RunRecord: Sendable {
    public var result: ScenarioResult
    public var trace: [TraceEvent]
    /// For each step, the range of trace events it produced.
    public var stepTraceRanges: [Range<Int>]
    public var outcomes: [StepOutcome]
    /// For each step that ran: the CPL and the current task right after it.
    public var stepStates: [StepState] = []
    /// The state at the end of the run (nil when the machine could not be built).
    public var final: FinalState?
}

/// The CPU and scheduler state right after one step (for `--update` and `explain`).
public struct StepState: Sendable {
    public var cpl: UInt8
    public var current: String
}

/// What the top-level `expect` can check, as the run left it.
public struct FinalState: Sendable {
    public var kernelEnabled: Bool
    public var output: String
    public var schedule: [String]
    public var switches: Int
    public var faults: Int
    public var shutdown: Bool
    /// Tasks in creation order, with their summaries.
    public var processes: [(name: String, summary: ProcessSummary)]
}

public enum Runner {
    /// Runs one decoded scenario.
    public static func run(_ spec: ScenarioSpec, file: String, warnings: [Diagnostic] = [], limits: RunLimits = RunLimits()) -> RunRecord {
        var result = ScenarioResult(id: spec.id, file: file, line: spec.location.line, description: spec.description,
                                    tags: spec.tags, points: spec.points, outcome: .passed, checkCount: spec.checkCount,
                                    warnings: warnings, partial: spec.partialCredit)
        var system: System
        do {
            system = try System.build(machine: spec.machine, kernel: spec.kernel, tasks: spec.tasks)
        } catch {
            result.outcome = .invalid([Diagnostic(.error, "cannot build this machine: \(error.message)", at: spec.location)])
            return RunRecord(result: result, trace: [], stepTraceRanges: [], outcomes: [])
        }
        system.machine.trace.enabled = limits.keepTrace
        if let problem = applyGatePatches(spec.gatePatches, to: &system.machine) {
            result.outcome = .invalid([Diagnostic(.error, problem, at: spec.location)])
            return RunRecord(result: result, trace: [], stepTraceRanges: [], outcomes: [])
        }
        var failures: [CheckFailure] = []
        var ranges: [Range<Int>] = []
        var outcomes: [StepOutcome] = []
        var states: [StepState] = []
        let clock = ContinuousClock()
        let start = clock.now
        var ticks = 0
        for step in spec.steps {
            let here = SourceLocation(file: file, line: step.location.line, column: step.location.column)
            if case let .timer(n) = step.event {
                ticks += n
                if ticks > limits.tickBudget {
                    failures.append(CheckFailure(path: "steps[\(step.index)]", expected: "at most \(limits.tickBudget) timer ticks in a scenario (--tick-budget)",
                                                 actual: "\(ticks) ticks", location: here))
                    break
                }
            }
            if system.machine.shutdown {
                failures.append(CheckFailure(path: "steps[\(step.index)]", expected: "a running machine",
                                             actual: "the machine shut down (triple fault) in an earlier step", location: here))
                break
            }
            let traceStart = system.machine.trace.count
            let outcome = system.run(step.event, as: step.actor)
            let range = traceStart..<system.machine.trace.count
            ranges.append(range)
            outcomes.append(outcome)
            states.append(StepState(cpl: system.machine.cpu.cpl, current: system.currentTaskName))
            if let err = outcome.error {
                failures.append(CheckFailure(path: "steps[\(step.index)]", expected: "the step to run", actual: err, location: here))
                break
            }
            if !step.mentionsFaults, let f = outcome.faults.first {
                let all = outcome.faults.map { faultText($0) }.joined(separator: ", ")
                failures.append(CheckFailure(path: "steps[\(step.index)].expect.fault", expected: "none (the step's expect mentions no fault)",
                                             actual: all, location: here,
                                             note: "\(f.vector) raised by rule \(f.rule) (\(RuleBook.reference(f.rule))): \(f.reason)"))
            }
            for check in step.checks {
                if let fail = ExpectationChecker.check(check, outcome: outcome, system: system, trace: system.machine.trace.events, range: range) {
                    failures.append(fail)
                }
            }
            if clock.now - start > .milliseconds(Int(limits.timeLimitSeconds * 1000)) {
                failures.append(CheckFailure(path: "steps[\(step.index)]", expected: "the scenario to finish within \(limits.timeLimitSeconds) s (--time-limit)",
                                             actual: "still running", location: here))
                break
            }
        }
        for check in spec.finalChecks {
            if let fail = ExpectationChecker.checkFinal(check, system: system) { failures.append(fail) }
        }
        if !failures.isEmpty { result.outcome = .failed(failures) }
        let final = FinalState(kernelEnabled: spec.kernel.enabled, output: system.totalOutput, schedule: system.dispatchOrder,
                               switches: system.switchCount, faults: system.faultCount, shutdown: system.machine.shutdown,
                               processes: system.taskNames.compactMap { n in system.processSummary(n).map { (n, $0) } })
        return RunRecord(result: result, trace: system.machine.trace.events, stepTraceRanges: ranges, outcomes: outcomes,
                         stepStates: states, final: final)
    }

    static func faultText(_ f: Fault) -> String {
        var s = f.vector.description
        if let c = f.errorCode { s += "(0x\(String(c, radix: 16)))" }
        return s
    }

    /// Applies `machine.idt` entries over the built IDT; omitted fields keep the gate that was there.
    static func applyGatePatches(_ patches: [GatePatch], to m: inout Machine) -> String? {
        let long = m.mode == .x86_64
        for g in patches {
            let slot = long ? g.vector * 2 : g.vector
            var words = m.idt
            let needed = long ? slot + 2 : slot + 1
            if words.count < needed { words += Array(repeating: 0, count: needed - words.count) }
            let old = Descriptor(raw: words[slot])
            let oldHigh = long ? words[slot + 1] : 0
            let oldType: String = {
                switch old.systemType {
                case .some(.trapGate), .some(.trapGate16): return "trap"
                case .some(.taskGate): return "task"
                default: return "interrupt"
                }
            }()
            let type = g.type ?? oldType
            let sysType: SystemType = type == "trap" ? .trapGate : (type == "task" ? .taskGate : .interruptGate)
            let hadGate = old.present || old.raw != 0
            let selector = type == "task" ? (g.tss ?? old.gateSelector) : (g.selector ?? (hadGate ? old.gateSelector : 0))
            let offset = g.offset ?? (old.gateOffset | (oldHigh & 0xFFFF_FFFF) << 32)
            let dpl = g.dpl ?? (hadGate ? old.dpl : 0)
            let present = g.present ?? true
            let ist = g.ist ?? (long ? old.ist : 0)
            let (low, high) = Descriptor.gate(type: sysType, selector: selector, offset: type == "task" ? 0 : offset,
                                              dpl: dpl, present: present, ist: ist)
            words[slot] = low.raw
            if long { words[slot + 1] = high }
            m.idt = words
        }
        return nil
    }
}
