// EmptyAnswer: the checks that state no field (`trace: []`, `gate: {}`, `entry: {}`, `switch: {}`,
// a task of `processes` mapped to `{}`). They are valid checks in a scenario, but as the answer to
// a predict blank they predict nothing: `trace: []` passes on every step, and `gate: {}` only says
// that some delivery happened. A blank answered by such a check alone is wrong ("an answer that
// checks nothing"), as `regs: {}` is.

extension Check {
    /// True for a check written as an empty list or mapping, which predicts no value.
    var statesNoField: Bool {
        switch kind {
        case let .trace(items): return items.isEmpty
        case let .gate(g?): return g == GateMatcher()
        case let .entry(e): return e.via == nil && e.cs == nil && e.ss == nil && e.ip == nil && e.sp == nil && e.cpl == nil
        case let .switchTo(m?): return m == SwitchMatcher()
        case let .process(_, m): return m == ProcessMatcher()
        default: return false
        }
    }
}
