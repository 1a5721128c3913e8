// SoftwareExceptionFaults: what a step's `fault` and `faults` are compared with when the step ran INT3,
// INTO or INT1 and the delivery of its #BP, #OF or #DB faulted (a gate DPL below CPL, a gate or code
// segment not present, a page fault on the stack). The SDM says two things of such a step: the INT n /
// INTO / INT3 / INT1 pseudo-code (Vol. 2A) raises the #GP(vector*8+2), #NP, #PF ... as the instruction's
// own fault, and the double-fault table (Vol. 3A Table 6-5) counts the #BP as the first exception of a
// pair. So an expectation may name the step's exceptions with that first one
// (`faults: [BP, {vector: GP, error_code: 0x1a}]`) or without it (`fault: {vector: GP, error_code: 0x1a}`).

import Machine

enum SoftwareExceptionFaults {
    /// The step's exceptions without its first one, when that is an INT3/INTO/INT1 exception that was
    /// never delivered; nil otherwise.
    static func withoutUndelivered(_ faults: [Fault]) -> [Fault]? {
        guard faults.count > 1, faults[0].undeliveredSoftwareException else { return nil }
        return Array(faults.dropFirst())
    }

    /// The exceptions `fault: m` is compared with: the step's own, or, when `m` names another vector than
    /// an undelivered software exception that comes first, the ones its delivery raised.
    static func forFault(_ m: FaultMatcher, _ faults: [Fault]) -> [Fault] {
        if let rest = withoutUndelivered(faults), m.vector != faults[0].vector { return rest }
        return faults
    }

    /// The exceptions `faults: ms` is compared with: the step's own, or, when the list leaves out an
    /// undelivered software exception that comes first (one shorter, not starting with it), the rest.
    static func forFaults(_ ms: [FaultMatcher], _ faults: [Fault]) -> [Fault] {
        if let rest = withoutUndelivered(faults), ms.count == rest.count, ms.first?.vector != faults[0].vector { return rest }
        return faults
    }

    /// True when `fault` is the undelivered software exception that starts a step whose other exceptions
    /// are named: the step's expect need not mention it.
    static func mayGoUnmentioned(_ fault: Fault, in faults: [Fault]) -> Bool {
        withoutUndelivered(faults) != nil && fault.undeliveredSoftwareException
    }
}
