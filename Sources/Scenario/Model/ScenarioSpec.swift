// ScenarioSpec: a decoded scenario — setup, steps and the checks to make — ready to run.

import Machine

/// How to match an error code (`error_code:` in `fault`).
public enum ErrorCodeMatcher: Sendable, Equatable {
    /// The whole error code.
    case exact(UInt32)
    /// A selector-style code (SEG-8): bits 15..2 always; IDT (bit 1) and EXT (bit 0) only when given.
    case selector(UInt16, idt: Bool?, ext: Bool?)
    /// A page-fault code (PG-11): each bit that is given.
    case page(p: Bool?, w: Bool?, u: Bool?, rsvd: Bool?, i: Bool?, pk: Bool?)
}

/// One expected fault.
public struct FaultMatcher: Sendable, Equatable {
    public var vector: ExceptionVector
    public var errorCode: ErrorCodeMatcher?
    public var cr2: UInt64?
}

/// Expected fields of a gate delivery (`gate:`).
public struct GateMatcher: Sendable, Equatable {
    public var vector: UInt8?
    public var type: String?
    public var dpl: UInt8?
    public var fromCPL: UInt8?
    public var toCPL: UInt8?
    public var stackSwitch: Bool?
    public var interruptsEnabled: Bool?
}

/// Expected fields of a kernel entry (`entry:`).
public struct EntryMatcher: Sendable, Equatable {
    public var via: String?
    public var cs: UInt16?
    public var ss: UInt16?
    public var ip: UInt64?
    public var sp: UInt64?
    public var cpl: UInt8?
}

/// Expected fields of a context switch (`switch:`).
public struct SwitchMatcher: Sendable, Equatable {
    public var from: String?
    public var to: String?
    public var reason: String?
}

/// Expected final state of one task (`processes:` of the final `expect`).
public struct ProcessMatcher: Sendable, Equatable {
    public var state: TaskState?
    public var exitCode: Int64?
    public var signal: String?
    public var ticks: Int64?
}

/// One check, with where it is written.
public struct Check: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case fault(FaultMatcher?)
        case faults([FaultMatcher])
        case gate(GateMatcher?)
        case entry(EntryMatcher)
        case cpl(UInt8)
        case register(String, UInt64)
        case flag(String, UInt64)
        case returns(Int64)
        case output(String)
        case switchTo(SwitchMatcher?)
        case current(String)
        case state(String, TaskState)
        case signal(String?)
        case shutdown(Bool)
        case trace([String])
        case physical(UInt64)
        case accessed(Bool)
        case dirty(Bool)
        // Final checks.
        case schedule([String])
        case switchCount(Int64)
        case process(String, ProcessMatcher)
        case faultCount(Int64)
        case totalOutput(String)
    }
    public var kind: Kind
    /// `steps[3].expect.fault.error_code`
    public var path: String
    public var location: SourceLocation
    /// Where the fields of a mapping-valued check are written (`error_code`, `error_code.p`, `to_cpl`, ...).
    public var fieldLocations: [String: SourceLocation] = [:]

    public init(kind: Kind, path: String, location: SourceLocation, fieldLocations: [String: SourceLocation] = [:]) {
        self.kind = kind
        self.path = path
        self.location = location
        self.fieldLocations = fieldLocations
    }
}

/// One step: the event, who acts, and its checks.
public struct StepSpec: Sendable {
    public var event: KernelEvent
    public var actor: String?
    public var checks: [Check]
    /// Whether the step has an `expect` that mentions `fault` or `faults`.
    public var mentionsFaults: Bool
    public var location: SourceLocation
    public var index: Int
}

/// A scenario ready to run.
public struct ScenarioSpec: Sendable {
    public var id: String
    public var description: String?
    public var tags: [String]
    public var points: Double
    public var location: SourceLocation
    public var machine: MachineSetup
    public var kernel: KernelSetup
    public var tasks: [TaskSpec]?
    public var steps: [StepSpec]
    public var finalChecks: [Check]
    /// Extra per-scenario settings for grading (`partial: true`).
    public var partialCredit: Bool
    /// IDT gates as written (omitted fields keep the preset's), applied after the machine is built.
    var gatePatches: [GatePatch] = []
    /// Where each page mapping was written (`PageMapping.origin` indexes it).
    var origins: [SourceLocation] = []
    /// The GDT/LDT entry names, for decoding expectations kept apart from the file (grading).
    var selectorNames = SelectorNames()

    public var checkCount: Int { steps.reduce(finalChecks.count) { $0 + $1.checks.count } }
}
