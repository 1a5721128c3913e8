// ScenarioSpec: a decoded scenario — setup, steps and the checks to make — ready to run.

import Machine

/// How to match an error code (`error_code:` in `fault`).
public enum ErrorCodeMatcher: Sendable, Equatable {
    /// The whole error code.
    case exact(UInt32)
    /// A selector-style code (SEG-8): bits 15..2 (the selector, when given; `{idt: true}` alone checks only
    /// IDT), IDT (bit 1) and EXT (bit 0) only when given.
    case selector(UInt16?, idt: Bool?, ext: Bool?)
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
    /// The keys the scenario wrote (`eip`/`esp` or `rip`/`rsp`), for the path of a failed check.
    public var ipKey = "rip", spKey = "rsp"
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
    /// nil: not checked; .some(nil): `signal: none` (the task was not killed by a signal).
    public var signal: String??
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
    /// `steps[3].expect.fault.error_code`: joined only when read (a failure, a report), since most
    /// checks pass; the shared prefix (`steps[3].expect`) is stored once per step.
    public var path: String {
        get { pathLeaf.isEmpty ? pathPrefix : pathPrefix + "." + pathLeaf }
        set { pathPrefix = newValue; pathLeaf = "" }
    }
    private var pathPrefix: String
    private var pathLeaf: String
    public var location: SourceLocation
    /// The check's value as written, when it is a mapping whose fields can be pointed at; read only
    /// when a check fails (`location(ofField:)`), so nothing is computed for the checks that pass.
    var fields: YAMLNode?

    public init(kind: Kind, path: String, location: SourceLocation) {
        self.kind = kind
        self.pathPrefix = path
        self.pathLeaf = ""
        self.location = location
    }

    /// A check whose path is `prefix.leaf`, with the mapping it was written as (when it is one).
    init(kind: Kind, prefix: String, leaf: String, location: SourceLocation, fields: YAMLNode?) {
        self.kind = kind
        self.pathPrefix = prefix
        self.pathLeaf = leaf
        self.location = location
        self.fields = fields?.mapping == nil && fields?.sequence == nil ? nil : fields
    }

    /// Two checks are equal when they check the same thing written at the same place.
    public static func == (a: Check, b: Check) -> Bool {
        a.kind == b.kind && a.path == b.path && a.location == b.location && a.fields?.start == b.fields?.start
    }

    /// Where a field of a mapping-valued check is written: `error_code`, `error_code.p`, `to_cpl`,
    /// or in a list-valued one an element and its fields (`[1].error_code.p`): three levels at most;
    /// nil when the check is not a mapping or a list or does not write that field.
    public func location(ofField field: String) -> SourceLocation? {
        guard var node = fields else { return nil }
        var depth = 0
        for key in field.split(separator: ".", omittingEmptySubsequences: false) {
            guard depth < 3 else { return nil }
            if key.hasPrefix("["), key.hasSuffix("]"), let i = Int(key.dropFirst().dropLast()), let items = node.sequence {
                guard items.indices.contains(i) else { return nil }
                node = items[i]
            } else {
                guard let pairs = node.mapping,
                      let next = pairs.first(where: { $0.key.scalar.map { $0[...] == key } ?? false })?.value else { return nil }
                node = next
            }
            depth += 1
        }
        return SourceLocation(file: location.file, line: node.start.line, column: node.start.column)
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
