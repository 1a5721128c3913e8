// YAMLSuiteTests: runs the loader over every case of the public YAML test suite.

import Scenario
import Testing

/// Cases where libyaml 0.2.5 (a YAML 1.1 parser) or this loader's stricter rules disagree
/// with the suite. For these the test only checks that loading neither crashes nor hangs;
/// a listed case that starts to match fails the test, so the list stays honest.
let knownLibyamlDisagreements: [String: String] = [
    // libyaml accepts this invalid YAML.
    "9C9N": Reason.acceptsInvalid,
    "9HCY": Reason.acceptsInvalid,
    "9JBA": Reason.acceptsInvalid,
    "CVW2": Reason.acceptsInvalid,
    "DK95/01": Reason.acceptsInvalid,
    "EB22": Reason.acceptsInvalid,
    "G5U8": Reason.acceptsInvalid,
    "MUS6/00": Reason.acceptsInvalid,
    "MUS6/01": Reason.acceptsInvalid,
    "QB6E": Reason.acceptsInvalid,
    "RHX7": Reason.acceptsInvalid,
    "S98Z": Reason.acceptsInvalid,
    "SU5Z": Reason.acceptsInvalid,
    "X4QW": Reason.acceptsInvalid,
    "Y79Y/003": Reason.acceptsInvalid,
    "YJV2": Reason.acceptsInvalid,
    // libyaml rejects empty (null) implicit keys.
    "2JQS": Reason.emptyKeys,
    "6M2F": Reason.emptyKeys,
    "CFD4": Reason.emptyKeys,
    "FRK4": Reason.emptyKeys,
    "M2N8/00": Reason.emptyKeys,
    "NHX8": Reason.emptyKeys,
    "NKF9": Reason.emptyKeys,
    "S3PD": Reason.emptyKeys,
    "SM9W/01": Reason.emptyKeys,
    "UKK6/00": Reason.emptyKeys,
    // libyaml rejects YAML 1.2 flow-mapping forms (colon or value on a later line, JSON-like keys with adjacent ':value', multi-line keys).
    "4MUZ/00": Reason.flowKeys,
    "4MUZ/01": Reason.flowKeys,
    "4MUZ/02": Reason.flowKeys,
    "5MUD": Reason.flowKeys,
    "5T43": Reason.flowKeys,
    "9SA2": Reason.flowKeys,
    "K3WX": Reason.flowKeys,
    "NJ66": Reason.flowKeys,
    "UT92": Reason.flowKeys,
    "VJP3/01": Reason.flowKeys,
    // libyaml mis-scans flow plain scalars that start with or contain ':' '?' '-'.
    "4ABK": Reason.flowPlain,
    "58MP": Reason.flowPlain,
    "652Z": Reason.flowPlain,
    "DBG4": Reason.flowPlain,
    "HM87/00": Reason.flowPlain,
    "HM87/01": Reason.flowPlain,
    // libyaml rejects tabs as separation/indentation whitespace allowed by YAML 1.2.
    "6BCT": Reason.tabs,
    "6CA3": Reason.tabs,
    "96NN/00": Reason.tabs,
    "96NN/01": Reason.tabs,
    "A2M4": Reason.tabs,
    "DK95/00": Reason.tabs,
    "DK95/03": Reason.tabs,
    "DK95/04": Reason.tabs,
    "Q5MG": Reason.tabs,
    "R4YG": Reason.tabs,
    "Y79Y/001": Reason.tabs,
    "Y79Y/010": Reason.tabs,
    // libyaml allows only [A-Za-z0-9_-] in anchor and alias names.
    "2SXE": Reason.anchors,
    "8XYN": Reason.anchors,
    "W5VH": Reason.anchors,
    "Y2GN": Reason.anchors,
    // libyaml rejects YAML 1.2 document forms (bare document after '...', zero-indented block scalar at top level, lone '...').
    "7Z25": Reason.documents,
    "DK3J": Reason.documents,
    "FP8R": Reason.documents,
    "HWV9": Reason.documents,
    "M7A3": Reason.documents,
    "QT73": Reason.documents,
    "W4TN": Reason.documents,
    // libyaml rejects reserved directives and YAML versions other than 1.x it knows.
    "2LFX": Reason.directives,
    "6LVF": Reason.directives,
    "BEC7": Reason.directives,
    "MUS6/05": Reason.directives,
    "MUS6/06": Reason.directives,
    // libyaml drops a block scalar's last whitespace-only line when the stream ends without a newline.
    "JEF9/02": Reason.trailing,
    "L24T/01": Reason.trailing,
]

/// The reasons, one per group of cases above.
private enum Reason {
    static let acceptsInvalid = "libyaml accepts this invalid YAML"
    static let emptyKeys = "libyaml rejects empty (null) implicit keys"
    static let flowKeys = "libyaml rejects YAML 1.2 flow-mapping forms (colon or value on a later line, JSON-like keys with adjacent ':value', multi-line keys)"
    static let flowPlain = "libyaml mis-scans flow plain scalars that start with or contain ':' '?' '-'"
    static let tabs = "libyaml rejects tabs as separation/indentation whitespace allowed by YAML 1.2"
    static let anchors = "libyaml allows only [A-Za-z0-9_-] in anchor and alias names"
    static let documents = "libyaml rejects YAML 1.2 document forms (bare document after '...', zero-indented block scalar at top level, lone '...')"
    static let directives = "libyaml rejects reserved directives and YAML versions other than 1.x it knows"
    static let trailing = "libyaml drops a block scalar's last whitespace-only line when the stream ends without a newline"
}

@Test("YAML test suite case", .timeLimit(.minutes(10)), arguments: YAMLSuite.caseIDs)
func yamlSuiteCase(_ id: String) {
    guard id != YAMLSuite.missingSuite else {
        Issue.record("shared/yaml-test-suite not found above \(#filePath)")
        return
    }
    let outcome = YAMLSuite.check(id)
    if let reason = knownLibyamlDisagreements[id] {
        #expect(outcome != .matched, "\(id) is listed as a libyaml disagreement (\(reason)) but now matches: remove it from the list")
    } else if case .mismatch(let problem) = outcome {
        Issue.record("\(id): \(problem)")
    }
}
