// Fault: an exception the CPU raised, as a value. Every fault names the rule that raised it
// (an id from docs/machine-rules.md such as `SEG-5d` or `PG-9`) so that a trace can say why.

/// An x86 exception vector (SDM Vol. 3A §6.3, table 6-1).
public enum ExceptionVector: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case DE = 0, DB = 1, NMI = 2, BP = 3, OF = 4, BR = 5, UD = 6, NM = 7, DF = 8
    case CSO = 9, TS = 10, NP = 11, SS = 12, GP = 13, PF = 14, MF = 16, AC = 17
    case MC = 18, XM = 19, VE = 20, CP = 21

    /// The manual's mnemonic, `#GP`, `#PF`, ...
    public var description: String { self == .NMI ? "NMI" : "#\(Self.shortName(self))" }

    /// The bare name used in scenario files: `GP`, `PF`, ...
    public var name: String { Self.shortName(self) }

    static func shortName(_ v: ExceptionVector) -> String {
        switch v {
        case .DE: "DE"
        case .DB: "DB"
        case .NMI: "NMI"
        case .BP: "BP"
        case .OF: "OF"
        case .BR: "BR"
        case .UD: "UD"
        case .NM: "NM"
        case .DF: "DF"
        case .CSO: "CSO"
        case .TS: "TS"
        case .NP: "NP"
        case .SS: "SS"
        case .GP: "GP"
        case .PF: "PF"
        case .MF: "MF"
        case .AC: "AC"
        case .MC: "MC"
        case .XM: "XM"
        case .VE: "VE"
        case .CP: "CP"
        }
    }

    /// The SDM's long name of the exception.
    public var title: String {
        switch self {
        case .DE: "divide error"
        case .DB: "debug exception"
        case .NMI: "non-maskable interrupt"
        case .BP: "breakpoint"
        case .OF: "overflow"
        case .BR: "BOUND range exceeded"
        case .UD: "invalid opcode"
        case .NM: "device not available"
        case .DF: "double fault"
        case .CSO: "coprocessor segment overrun"
        case .TS: "invalid TSS"
        case .NP: "segment not present"
        case .SS: "stack-segment fault"
        case .GP: "general protection"
        case .PF: "page fault"
        case .MF: "x87 floating-point error"
        case .AC: "alignment check"
        case .MC: "machine check"
        case .XM: "SIMD floating-point exception"
        case .VE: "virtualization exception"
        case .CP: "control protection"
        }
    }

    /// INT-11: the exceptions for which the CPU pushes an error code.
    public var pushesErrorCode: Bool {
        switch self {
        case .DF, .TS, .NP, .SS, .GP, .PF, .AC, .CP: true
        default: false
        }
    }

    /// INT-15: whether delivering this exception sets RF in the EFLAGS image it saves (on the stack, or in
    /// the TSS through a task gate). SDM Vol. 3B §17.3.1.1 (§18.3.1.1 in later editions): "for any
    /// fault-class exception except a debug exception generated in response to an instruction breakpoint,
    /// the value pushed for RF is 1"; the fault-class vectors are those of Table 6-1. #DB never sets it
    /// (the model raises #DB only as a trap), nor do the traps #BP/#OF, the abort #MC, or vector 9 (an
    /// abort in §6.15, a fault in Table 6-1 and in Bochs; the model never raises it). #DF is an abort in Table 6-1, but it is
    /// only ever raised while delivering a fault-class exception, whose RF is already set in EFLAGS: Bochs
    /// (exception(): `if (vector != BX_DB_EXCEPTION) assert_RF()` for its fault class, which includes
    /// #DF) therefore pushes RF=1 in the #DF frame too, and so does the model.
    public var setsResumeFlag: Bool {
        switch self {
        case .DE, .BR, .UD, .NM, .DF, .TS, .NP, .SS, .GP, .PF, .MF, .AC, .XM, .VE, .CP: true
        case .DB, .NMI, .BP, .OF, .CSO, .MC: false
        }
    }

    /// DF-1: the class of an exception for the double-fault table. #CP (21) is contributory, as Intel lists it
    /// (SDM Vol. 3A Table 6-4, DF-1's Intel default) and as Bochs's exceptions_info table has it.
    public var exceptionClass: ExceptionClass {
        switch self {
        case .DE, .TS, .NP, .SS, .GP, .CP: .contributory
        case .PF, .VE: .pageFault
        default: .benign
        }
    }

    /// Looks up a vector by its bare or `#`-prefixed name (`GP`, `#GP`) or its SDM title (`page fault`,
    /// `general protection`, also `general protection fault`), case-insensitively.
    public init?(name: String) {
        // The usual spelling (`GP`, `PF`) needs no case folding.
        if let v = Self.byShortName[name] { self = v; return }
        var n = name.uppercased()
        if n.hasPrefix("#") { n.removeFirst() }
        if let v = Self.byShortName[n] {
            self = v
        } else if let v = Self.byTitle[name.lowercased().split(separator: " ").joined(separator: " ")] {
            self = v
        } else {
            return nil
        }
    }

    /// Every vector by its title in lower case (`page fault`), and #GP by its usual name too.
    private static let byTitle: [String: ExceptionVector] = Dictionary(
        allCases.map { ($0.title.lowercased(), $0) } + [("general protection fault", .GP), ("stack segment fault", .SS)],
        uniquingKeysWith: { first, _ in first })

    /// Every vector by its short name (`GP`), built once.
    private static let byShortName: [String: ExceptionVector] = Dictionary(
        allCases.map { (shortName($0), $0) }, uniquingKeysWith: { first, _ in first })
}

/// DF-1: benign, contributory or page-fault class.
public enum ExceptionClass: Sendable, CustomStringConvertible {
    case benign, contributory, pageFault

    /// The class as SDM Vol. 3A Table 6-4 names it, for traces.
    public var description: String {
        switch self {
        case .benign: "a benign exception"
        case .contributory: "a contributory exception"
        case .pageFault: "a page fault"
        }
    }
}

/// A fault raised by the model: vector, error code, CR2 (page faults) and the rule that raised it.
public struct Fault: Error, Equatable, Sendable, CustomStringConvertible {
    /// The exception vector (0-31).
    public var vector: ExceptionVector
    /// The error code pushed with the exception, or nil when the exception has none.
    public var errorCode: UInt32?
    /// CR2: the faulting linear address (page faults only).
    public var cr2: UInt64?
    /// The id of the rule that raised this fault (`SEG-5d`, `PG-6`, ...), see `RuleBook`.
    public var rule: String
    /// What went wrong, in the manual's words, for the trace.
    public var reason: String
    /// INT3's #BP, INTO's #OF or INT1's #DB whose own delivery faulted (a gate DPL below CPL, a gate or
    /// code segment not present, a fault while pushing the frame): no handler of its vector ran, and the
    /// exceptions after it were raised by the instruction's delivery (docs/format.md, "expect on a step").
    public var undeliveredSoftwareException = false

    public init(_ vector: ExceptionVector, code: UInt32? = nil, cr2: UInt64? = nil, rule: String, _ reason: String) {
        self.vector = vector
        self.errorCode = code
        self.cr2 = cr2
        self.rule = rule
        self.reason = reason
    }

    /// `#GP(0)` with the given rule.
    public static func gp(_ code: UInt32 = 0, rule: String, _ reason: String) -> Fault {
        Fault(.GP, code: code, rule: rule, reason)
    }

    public var description: String {
        var s = vector.description
        if let code = errorCode { s += "(0x\(String(code, radix: 16)))" }
        if let cr2 { s += " CR2=0x\(String(cr2, radix: 16))" }
        return s + " [\(rule)] \(reason)"
    }
}

/// Sets EXT (bit 0) of a selector-style error code when delivering an external event (SEG-8, SEG-9).
@inlinable
public func selectorErrorCode(_ selector: UInt16, ext: Bool = false) -> UInt32 {
    UInt32(selector & 0xFFFC) | (ext ? 1 : 0)
}

/// The error code of an IDT-related fault: `vector*8 + 2 (+EXT)` (SEG-8).
@inlinable
public func idtErrorCode(_ vector: UInt8, ext: Bool) -> UInt32 {
    UInt32(vector) * 8 + 2 + (ext ? 1 : 0)
}
