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
    /// Bytes a scenario may hold as console output and file contents (16 MiB).
    public static let defaultMaxOutputBytes = 16 << 20
    public var maxOutputBytes = RunLimits.defaultMaxOutputBytes
    /// Whether to keep the trace: nil keeps it only when a step checks `trace` (explain sets true).
    public var keepTrace: Bool?
    /// Timer steps run in chunks of this many ticks, with the time limit checked between chunks.
    public static let timerChunk = 4096
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
    /// The trace reached its most events: later events were not recorded.
    public var traceTruncated = false
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
        // The tick budget is checked before anything runs: a scenario over it is invalid at once,
        // at the step that crosses it, instead of after the earlier steps spent their time.
        var planned = 0
        for step in spec.steps {
            guard case let .timer(n) = step.event else { continue }
            planned = planned > Int.max - n ? Int.max : planned + n
            if planned > limits.tickBudget {
                let here = SourceLocation(file: file, line: step.location.line, column: step.location.column)
                result.outcome = .invalid([Diagnostic(.error, "steps[\(step.index)]: the scenario asks for \(planned) timer ticks, more than the budget of \(limits.tickBudget) (--tick-budget)", at: here)])
                return RunRecord(result: result, trace: [], stepTraceRanges: [], outcomes: [])
            }
        }
        let clock = ContinuousClock()
        let start = clock.now
        var system: System
        do {
            system = try System.build(machine: spec.machine, kernel: spec.kernel, tasks: spec.tasks)
        } catch {
            result.outcome = .invalid([buildDiagnostic(error, spec)])
            return RunRecord(result: result, trace: [], stepTraceRanges: [], outcomes: [])
        }
        system.machine.trace.enabled = limits.keepTrace ?? spec.steps.contains { $0.checks.contains { if case .trace = $0.kind { return true } else { return false } } }
        if let problem = applyGatePatches(spec.gatePatches, to: &system.machine, linux: spec.machine.linuxPreset) {
            result.outcome = .invalid([Diagnostic(.error, problem, at: spec.location)])
            return RunRecord(result: result, trace: [], stepTraceRanges: [], outcomes: [])
        }
        // The build counts against the time limit on its own too: a scenario with no step (or
        // whose build alone is too long) would otherwise pass however long it took.
        if clock.now - start > .milliseconds(Int(limits.timeLimitSeconds * 1000)) {
            result.outcome = .invalid([Diagnostic(.error, "building the machine took longer than the time limit of \(limits.timeLimitSeconds) s (--time-limit)", at: spec.location)])
            return RunRecord(result: result, trace: [], stepTraceRanges: [], outcomes: [])
        }
        var failures: [CheckFailure] = []
        var ranges: [Range<Int>] = []
        var outcomes: [StepOutcome] = []
        var states: [StepState] = []
        var ticks = 0
        var invalid: [Diagnostic] = []
        for step in spec.steps {
            let here = SourceLocation(file: file, line: step.location.line, column: step.location.column)
            if case let .timer(n) = step.event {
                ticks += n
                if ticks > limits.tickBudget {
                    invalid.append(Diagnostic(.error, "steps[\(step.index)]: the scenario asks for \(ticks) timer ticks, more than the budget of \(limits.tickBudget) (--tick-budget)", at: here))
                    break
                }
            }
            if system.machine.shutdown {
                failures.append(CheckFailure(path: "steps[\(step.index)]", expected: "a running machine",
                                             actual: "the machine shut down (triple fault) in an earlier step", location: here))
                break
            }
            let traceStart = system.machine.trace.count
            var outcome: StepOutcome
            var timedOut = false
            if case let .timer(n) = step.event, n > RunLimits.timerChunk {
                outcome = StepOutcome()
                var left = n
                while left > 0 {
                    let chunk = min(left, RunLimits.timerChunk)
                    merge(&outcome, system.run(.timer(chunk), as: step.actor))
                    left -= chunk
                    if outcome.error != nil || system.machine.shutdown { break }
                    if clock.now - start > .milliseconds(Int(limits.timeLimitSeconds * 1000)) { timedOut = true; break }
                }
            } else {
                outcome = system.run(step.event, as: step.actor)
            }
            let range = traceStart..<system.machine.trace.count
            ranges.append(range)
            outcomes.append(outcome)
            states.append(StepState(cpl: system.machine.cpu.cpl, current: system.currentTaskName))
            if timedOut || clock.now - start > .milliseconds(Int(limits.timeLimitSeconds * 1000)) {
                invalid.append(Diagnostic(.error, "steps[\(step.index)]: the scenario ran longer than the time limit of \(limits.timeLimitSeconds) s (--time-limit)", at: here))
                break
            }
            if system.writtenBytes > limits.maxOutputBytes {
                invalid.append(Diagnostic(.error, "steps[\(step.index)]: the scenario's console output and files hold \(system.writtenBytes) bytes, more than the limit of \(limits.maxOutputBytes) bytes (--max-output-bytes)", at: here))
                break
            }
            if let err = outcome.error {
                failures.append(CheckFailure(path: "steps[\(step.index)]", expected: "the step to run", actual: err, location: here))
                break
            }
            var stepFailures: [CheckFailure] = []
            var faultCheckFailed = false
            for check in step.checks {
                let fails = ExpectationChecker.check(check, outcome: outcome, system: system, trace: system.machine.trace.events, range: range)
                    .map { ExpectationChecker.namingSelectors($0, spec.selectorNames) }
                if !fails.isEmpty {
                    stepFailures += fails
                    switch check.kind {
                    case .fault, .faults: faultCheckFailed = true
                    default: break
                    }
                }
            }
            // A step that raises an exception its expect does not mention fails; `fault`/`faults`
            // mention the exceptions they name (`fault: none` and `faults: []` are checks of their own).
            // When the step's own fault check already failed, that failure says it all.
            // The vectors mentioned, one bit per exception vector (all are below 32).
            var mentioned: UInt32 = 0
            for c in step.checks {
                switch c.kind {
                case let .fault(m): if let m { mentioned |= Self.bit(m.vector) }
                case let .faults(ms): for m in ms { mentioned |= Self.bit(m.vector) }
                default: break
                }
            }
            if !faultCheckFailed, !step.mentionsFaults || mentioned != 0, !outcome.faults.isEmpty,
               let f = outcome.faults.first(where: {
                   mentioned & Self.bit($0.vector) == 0 && !SoftwareExceptionFaults.mayGoUnmentioned($0, in: outcome.faults)
               }) {
                let all = outcome.faults.map { faultText($0) }.joined(separator: ", ")
                let names = ExceptionVector.allCases.filter { mentioned & Self.bit($0) != 0 }.map(\.description).sorted()
                let expected = step.mentionsFaults
                    ? "only the exceptions the step's expect mentions (\(names.joined(separator: ", ")))"
                    : "none (the step's expect mentions no fault)"
                failures.append(CheckFailure(path: "steps[\(step.index)].expect.fault", expected: expected,
                                             actual: all, location: here,
                                             note: "\(f.vector) raised by rule \(f.rule) (\(RuleBook.reference(f.rule))): \(f.reason)"))
            }
            // `fault: none` (written, or meant by mentioning no fault) against a #PF the kernel fixed up.
            let faultPath = "steps[\(step.index)].expect.fault"
            if let handled = HandledFaultNote.text(outcome: outcome, kernel: spec.kernel.enabled,
                                                  trace: system.machine.trace.events, range: range) {
                for i in failures.indices where failures[i].path == faultPath && failures[i].expected.hasPrefix("none") {
                    failures[i].note = failures[i].note.map { "\($0); \(handled)" } ?? handled
                }
                for i in stepFailures.indices where stepFailures[i].path == faultPath && stepFailures[i].expected == "none" {
                    stepFailures[i].note = stepFailures[i].note.map { "\($0); \(handled)" } ?? handled
                }
            }
            failures += stepFailures
        }
        for check in spec.finalChecks {
            failures += ExpectationChecker.checkFinal(check, system: system)
        }
        if system.machine.trace.truncated {
            result.warnings.append(Diagnostic(.warning, "the trace reached \(system.machine.trace.maxEvents) events; later events were not recorded", at: spec.location))
        }
        if let dropped = system.machine.paging.memory.droppedWriteError {
            invalid.append(Diagnostic(.error, "the run exceeded the model's physical memory: \(dropped.message)", at: spec.location))
        }
        if !invalid.isEmpty {
            result.outcome = .invalid(invalid)
        } else if !failures.isEmpty {
            result.outcome = .failed(failures)
        }
        let final = FinalState(kernelEnabled: spec.kernel.enabled, output: system.totalOutput, schedule: system.dispatchOrder,
                               switches: system.switchCount, faults: system.faultCount, shutdown: system.machine.shutdown,
                               processes: system.taskNames.compactMap { n in system.processSummary(n).map { (n, $0) } })
        return RunRecord(result: result, trace: system.machine.trace.events, stepTraceRanges: ranges, outcomes: outcomes,
                         stepStates: states, final: final, traceTruncated: system.machine.trace.truncated)
    }

    /// An exception vector's bit in a mask of vectors.
    static func bit(_ v: ExceptionVector) -> UInt32 { 1 << UInt32(v.rawValue & 31) }

    /// The problems building the scenario's machine would report (nil when it builds), for `check`.
    public static func buildProblems(_ spec: ScenarioSpec) -> [Diagnostic]? {
        do {
            var system = try System.build(machine: spec.machine, kernel: spec.kernel, tasks: spec.tasks)
            if let problem = applyGatePatches(spec.gatePatches, to: &system.machine, linux: spec.machine.linuxPreset) {
                return [Diagnostic(.error, problem, at: spec.location)]
            }
            return nil
        } catch {
            return [buildDiagnostic(error, spec)]
        }
    }

    /// A machine-building error, located at the input it is about (a page mapping) when known.
    static func buildDiagnostic(_ error: MachineError, _ spec: ScenarioSpec) -> Diagnostic {
        var at = spec.location
        if let o = error.origin, o >= 0, o < spec.origins.count { at = spec.origins[o] }
        return Diagnostic(.error, "cannot build this machine: \(error.message)", at: at)
    }

    /// Adds one chunk's outcome to a step's.
    static func merge(_ into: inout StepOutcome, _ o: StepOutcome) {
        into.faults += o.faults
        into.ticks += o.ticks
        if o.gate != nil { into.gate = o.gate }
        if o.entry != nil { into.entry = o.entry }
        if o.returns != nil { into.returns = o.returns; into.returnsBy = o.returnsBy }
        into.output += o.output
        into.switches += o.switches
        if o.signal != nil { into.signal = o.signal }
        into.shutdown = into.shutdown || o.shutdown
        if o.access != nil { into.access = o.access }
        if into.error == nil { into.error = o.error }
    }

    static func faultText(_ f: Fault) -> String {
        var s = f.vector.description
        if let c = f.errorCode { s += "(0x\(String(c, radix: 16)))" }
        return s
    }

    /// Applies `machine.idt` entries over the built IDT; omitted fields keep the gate that was there.
    /// A new gate (none at that vector) without `selector` targets the linux preset's kernel code segment.
    static func applyGatePatches(_ patches: [GatePatch], to m: inout Machine, linux: Bool = false) -> String? {
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
            // A task gate's selector is its TSS's: `tss`, or `selector` as the SDM names the field; none
            // given: the old gate's when it was a task gate, else null (not the old gate's code segment).
            let selector = type == "task" ? (g.tss ?? g.selector ?? (oldType == "task" ? old.gateSelector : 0))
                                          : (g.selector ?? (hadGate ? old.gateSelector : (linux ? LinuxLayout(mode: m.mode).kernelCS : 0)))
            let offset = g.offset ?? (old.gateOffset | (oldHigh & 0xFFFF_FFFF) << 32)
            let dpl = g.dpl ?? (hadGate ? old.dpl : 0)
            let present = g.present ?? true
            // A task gate has no IST field (the decoder refuses `ist` with `type: task`): not kept from the old gate.
            let ist = type == "task" ? 0 : (g.ist ?? (long ? old.ist : 0))
            let (low, high) = Descriptor.gate(type: sysType, selector: selector, offset: type == "task" ? 0 : offset,
                                              dpl: dpl, present: present, ist: ist)
            words[slot] = low.raw
            if long { words[slot + 1] = high }
            m.idt = words
        }
        return nil
    }
}
