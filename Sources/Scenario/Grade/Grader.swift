// Grader: `ringspec grade`. An exercise folder says what kind of exercise it is and how many
// points it gives; the grader runs a student's submission against it and returns one result per
// scenario of the exercise, scored from `points` (see docs/grading.md for the layout).
//
//   EXERCISE/exercise.yaml   kind: predict | construct; title; points (default per scenario); partial
//   EXERCISE/handout/        the files students get (predict: scenarios with blanks in `expect`)
//   EXERCISE/hidden/         construct only: the expectations applied to the submission, never shown

import Machine

/// A problem with the exercise or the submission as a whole: nothing could be graded.
public struct GradeError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ d: String) { description = d }
}

/// The two kinds of exercise.
public enum ExerciseKind: String, Sendable {
    /// Students fill in the `expect` blocks of given scenarios; nothing else may change.
    case predict
    /// Students write the scenarios; the exercise holds hidden expectations for them.
    case construct
}

/// `exercise.yaml`, decoded.
public struct Exercise: Sendable {
    public var kind: ExerciseKind
    public var title: String?
    /// Points of a scenario that states none.
    public var points: Double = 1
    /// Partial credit for scenarios that do not say.
    public var partial = false
    public var directory: String

    static let keys = ["kind", "title", "points", "partial"]

    /// Reads `DIR/exercise.yaml`.
    public static func load(_ dir: String) throws(GradeError) -> Exercise {
        guard FileAccess.isDirectory(dir) else { throw GradeError("exercise folder '\(dir)' does not exist") }
        let path = dir + "/exercise.yaml"
        let bytes: [UInt8]
        switch FileAccess.read(path, maxBytes: YAMLLimits.defaultMaxFileBytes) {
        case let .success(b): bytes = b
        case let .failure(e): throw GradeError("exercise: \(e.message)")
        }
        let docs: [YAMLDocument]
        do { docs = try YAMLLoader.load(bytes) } catch {
            throw GradeError("\(path):\(error.mark.line):\(error.mark.column): \(error.message)")
        }
        var ctx = DecodeContext(file: path)
        guard docs.count == 1, let root = docs[0].root, let m = ctx.mapping(root, "exercise.yaml", allowed: keys) else {
            throw GradeError("\(path): must hold one mapping with \(keys.joined(separator: ", "))")
        }
        var ex = Exercise(kind: .predict, directory: dir)
        if let n = m["kind"], let k = ctx.choice(n, "exercise kind", [("predict", ExerciseKind.predict), ("construct", .construct)]) {
            ex.kind = k
        } else if m["kind"] == nil {
            ctx.error(root, "exercise.yaml needs `kind: predict` or `kind: construct`")
        }
        ex.title = m["title"].flatMap { ctx.string($0, "title") }
        if let n = m["points"] { ex.points = ScenarioDecoder.points(n, ctx: &ctx) }
        if let n = m["partial"], let b = ctx.bool(n, "partial") { ex.partial = b }
        if ctx.hasErrors { throw GradeError(ctx.diagnostics.map(\.description).joined(separator: "\n")) }
        return ex
    }
}

public enum Grader {
    /// Grades a submission folder against an exercise folder. Problems with single scenarios are
    /// results (scored 0); only an exercise that cannot be read, or a missing submission, throws.
    /// The message lists what in the submission could not be read at all.
    /// `load` gives the YAML limits and the mapped-page budget (`--max-file-bytes`, `--max-depth`,
    /// ..., `--max-pages`; its root is not used: `extends` stays inside the submission folder in a
    /// construct exercise and inside the handout in a predict one), `maxFiles` the most files read
    /// under one folder (`--max-files`).
    public static func grade(exercise dir: String, submission: String, limits: RunLimits = RunLimits(),
                             load: LoadOptions = LoadOptions(root: "."), maxFiles: Int = Suite.defaultMaxFiles)
        throws(GradeError) -> (report: RunReport, message: String?) {
        let reading = Reading(load: load, maxFiles: maxFiles)
        let exercise = try Exercise.load(dir)
        guard FileAccess.isDirectory(submission) else { throw GradeError("submission folder '\(submission)' does not exist") }
        let handout = dir + "/handout"
        let hidden = dir + "/hidden"
        // The exercise's scenarios are read first, so that only the submitted documents with their
        // ids are kept (a submission of many large files held every tree at once: 60 files of 1 MB
        // took 1.7 GB).
        var subDocs = Documents()
        var results: [ScenarioResult] = []
        switch exercise.kind {
        case .predict:
            guard FileAccess.isDirectory(handout) else { throw GradeError("a predict exercise needs its scenarios in \(handout)/") }
            let given = loadDocuments(under: handout, reading)
            if let bad = given.problems.first { throw GradeError("the exercise's handout cannot be read: \(bad)") }
            guard !given.documents.isEmpty else { throw GradeError("\(handout)/ holds no scenario") }
            subDocs = loadDocuments(under: submission, reading, keeping: Set(given.documents.map(\.id)))
            for doc in given.documents {
                results.append(gradePredict(doc, exercise: exercise, handoutRoot: handout, submission: subDocs, limits: limits, load: load))
            }
        case .construct:
            guard FileAccess.isDirectory(hidden) else { throw GradeError("a construct exercise needs its hidden expectations in \(hidden)/") }
            let expectations = loadDocuments(under: hidden, reading)
            if let bad = expectations.problems.first { throw GradeError("the exercise's hidden expectations cannot be read: \(bad)") }
            guard !expectations.documents.isEmpty else { throw GradeError("\(hidden)/ holds no expectations") }
            subDocs = loadDocuments(under: submission, reading, keeping: Set(expectations.documents.map(\.id)))
            for doc in expectations.documents {
                results.append(gradeConstruct(doc, exercise: exercise, submissionRoot: submission, submission: subDocs, limits: limits, load: load))
            }
        }
        var message: [String] = []
        if let t = exercise.title { message.append(t) }
        if !subDocs.problems.isEmpty {
            message.append("Some submitted files could not be read:")
            message += subDocs.problems.map { "  " + $0 }
        }
        return (RunReport(results: results), message.isEmpty ? nil : message.joined(separator: "\n"))
    }

    // MARK: Documents

    struct Document {
        var id: String
        var file: String
        var root: YAMLNode
    }

    struct Documents {
        var documents: [Document] = []
        var problems: [String] = []
        /// The folder they were read from (where a missing scenario is reported).
        var folder = "submission"
        func find(_ id: String) -> Document? { documents.first { $0.id == id } }
    }

    /// The limits documents are read with.
    struct Reading {
        var load: LoadOptions
        var maxFiles: Int
    }

    /// Every document of the YAML files under a folder, in file order then document order. What
    /// cannot be read is a problem, located: a file over a limit, a symbolic link that leads
    /// outside the folder (not read, as in `run`), more files than `maxFiles`. With `keeping`, only
    /// the first document of each of those ids is kept (what `find` would return), the others
    /// dropped as soon as their file is read, so memory holds what is graded, not the whole folder.
    static func loadDocuments(under dir: String, _ reading: Reading = Reading(load: LoadOptions(root: "."), maxFiles: Suite.defaultMaxFiles),
                              keeping wanted: Set<String>? = nil) -> Documents {
        var out = Documents()
        out.folder = dir
        let found: Discovery
        do { found = try Suite.discoverAll([dir], maxFiles: reading.maxFiles) } catch {
            out.problems.append(error.description)
            return out
        }
        // The refused entries in their place among the files (sorted file order), as `run` reports them.
        var refusedIndex = 0
        func addRefused(upTo position: Int) {
            while refusedIndex < found.refused.count,
                  (refusedIndex < found.refusedPositions.count ? found.refusedPositions[refusedIndex] : Int.max) <= position {
                let r = found.refused[refusedIndex]
                refusedIndex += 1
                guard case let .invalid(ds) = r.outcome else { continue }
                for d in ds {
                    let at = d.location.map { "\($0.file):\($0.line):\($0.column)" } ?? "\(r.file):1:1"
                    out.problems.append("\(at): \(d.message)")
                }
            }
        }
        for (position, f) in found.files.enumerated() {
            addRefused(upTo: position)
            let bytes: [UInt8]
            switch FileAccess.read(f, maxBytes: reading.load.yaml.maxFileBytes) {
            case let .success(b): bytes = b
            case let .failure(e): out.problems.append("\(f):1:1: \(e.message)"); continue
            }
            do {
                for d in try YAMLLoader.load(bytes, limits: reading.load.yaml) {
                    guard let root = d.root else { continue }
                    let id = root.value(forKey: "scenario")?.scalar ?? ""
                    if id.allSatisfy(\.isWhitespace) { out.problems.append("\(f):\(root.start.line):\(root.start.column): a document without `scenario: ID`"); continue }
                    if let wanted, !wanted.contains(id) || out.documents.contains(where: { $0.id == id }) { continue }
                    out.documents.append(Document(id: id, file: f, root: root))
                }
            } catch {
                out.problems.append("\(f):\(error.mark.line):\(error.mark.column): \(error.message)")
            }
        }
        addRefused(upTo: Int.max)
        return out
    }

    static func location(_ file: String, _ mark: SourceMark) -> SourceLocation {
        SourceLocation(file: file, line: mark.line, column: mark.column)
    }

    /// `points` and `partial` written on a document, else the exercise's.
    static func scoring(_ root: YAMLNode, _ exercise: Exercise) -> (Double, Bool) {
        var ctx = DecodeContext(file: "")
        let points = root.value(forKey: "points").map { ScenarioDecoder.points($0, ctx: &ctx) } ?? exercise.points
        let partial = root.value(forKey: "partial").flatMap { ctx.bool($0, "partial") } ?? exercise.partial
        return (points, partial)
    }

    static func missing(_ id: String, points: Double, submission: String, problems: [String]) -> ScenarioResult {
        var note: String?
        if !problems.isEmpty { note = "files that could not be read: " + problems.joined(separator: "; ") }
        let failure = CheckFailure(path: "scenario", expected: "a scenario with `scenario: \(id)` in the submission", actual: "none",
                                   location: SourceLocation(file: submission, line: 1, column: 1), note: note)
        return ScenarioResult(id: id, file: submission, line: 1, points: points, outcome: .failed([failure]), checkCount: 1)
    }

    // MARK: Predict

    static func gradePredict(_ given: Document, exercise: Exercise, handoutRoot: String, submission: Documents, limits: RunLimits,
                             load: LoadOptions) -> ScenarioResult {
        let (points, partial) = scoring(given.root, exercise)
        guard let sub = submission.find(given.id) else {
            return missing(given.id, points: points, submission: submission.folder, problems: submission.problems)
        }
        let differences = YAMLTree.differencesOutsideExpect(given.root, sub.root)
        if !differences.isEmpty {
            let failures = differences.map {
                CheckFailure(path: $0.path, expected: "\($0.exercise) (as in the exercise)", actual: $0.submission,
                             location: location(sub.file, $0.mark),
                             note: "only `expect` blocks may be changed in a predict exercise, so this scenario scores 0")
            }
            return ScenarioResult(id: given.id, file: sub.file, line: sub.root.start.line, points: points,
                                  outcome: .failed(failures), checkCount: failures.count, partial: false)
        }
        // Every leaf the handout's expect blocks hold must be answered (blanks filled in, given
        // values kept): one left out is a failed check.
        var unanswered: [CheckFailure] = []
        // A blank is answered by a value at its path or by a mapping under it (`fault: ~` by `fault: {vector: GP}`).
        let answers = YAMLTree.expectBlocks(sub.root).flatMap { YAMLTree.leaves($0.node, path: $0.path) }
        for block in YAMLTree.expectBlocks(given.root) {
            for leaf in YAMLTree.leaves(block.node, path: block.path) {
                let here = answers.filter { $0.path == leaf.path || $0.path.hasPrefix(leaf.path + ".") }
                if here.contains(where: { !$0.blank }) { continue }
                let at = here.first?.node.start ?? sub.root.start
                unanswered.append(CheckFailure(path: leaf.path, expected: "an answer", actual: "no answer", location: location(sub.file, at)))
            }
        }
        // Only the handout's blanks are scored: the given values and the checks a student adds
        // are run and reported, and fail a scenario without partial credit, but earn nothing.
        let blanks = YAMLTree.expectBlocks(given.root).flatMap { YAMLTree.leaves($0.node, path: $0.path) }.filter(\.blank).map(\.path)
        guard !blanks.isEmpty else {
            let none = CheckFailure(path: "expect", expected: "a blank to answer", actual: "none: the exercise's handout leaves no blank in this scenario (ask the course staff)",
                                    location: location(sub.file, sub.root.start))
            return ScenarioResult(id: given.id, file: sub.file, line: sub.root.start.line, points: points,
                                  outcome: .failed([none]), checkCount: 1, partial: false, blanks: BlankTally(right: 0, total: 0))
        }
        // Blanks left, all of them: nothing was predicted, so the given values earn nothing either.
        let unansweredBlanks = Set(unanswered.map(\.path)).intersection(blanks)
        if unansweredBlanks.count >= blanks.count {
            return ScenarioResult(id: given.id, file: sub.file, line: sub.root.start.line, points: points,
                                  outcome: .failed(unanswered), checkCount: unanswered.count, partial: false,
                                  blanks: BlankTally(right: 0, total: blanks.count))
        }
        // An answer that cannot be read (`signal: SIGSEV`, `returns: yes`, an unknown key in an
        // answer's mapping) is a wrong blank and the other blanks are graded: every error of the
        // decode is placed in the answer that holds it, those answers are put back as blanks, and
        // the scenario is decoded again (which may find errors the first decode stopped short of),
        // at most once per blank. An error outside every answer (in a given value, an `expect`
        // key beside the blanks) leaves the whole scenario invalid.
        var options = load
        options.root = handoutRoot
        let answered = YAMLTree.expectNodes(sub.root).filter { blanks.contains($0.path) && !unansweredBlanks.contains($0.path) }
        var unreadable: [UnreadableAnswer] = []
        var errors: [Diagnostic] = []
        var decoded: ScenarioSpec?
        for _ in 0...blanks.count {
            let root = YAMLTree.removingBlankExpectations(YAMLTree.blankingAnswers(sub.root, at: Set(unreadable.map(\.blank))))
            var ctx = DecodeContext(file: sub.file)
            let spec = ScenarioDecoder.decodeDocument(root, ctx: &ctx, path: given.file, options: options)
            if let spec, !ctx.hasErrors {
                decoded = spec
                break
            }
            let found = ctx.diagnostics.filter { $0.severity == .error }
            for e in found where !errors.contains(e) { errors.append(e) }
            let open = answered.filter { a in !unreadable.contains { $0.blank == a.path } }
            guard let placed = unreadableAnswers(found, in: open, file: sub.file) else { break }
            unreadable += placed
        }
        guard var spec = decoded else {
            return ScenarioResult(id: given.id, file: sub.file, line: sub.root.start.line, points: points,
                                  outcome: .invalid(errors), checkCount: 0, partial: partial,
                                  blanks: BlankTally(right: 0, total: blanks.count))
        }
        // A check holding a blank inside it (`gate: {vector: 0x80, type: ~}`) is checked field by
        // field, so each blank is judged on its own and no changed given field hides it (a
        // mapping check stops at its first wrong field).
        func holdsBlank(_ c: Check) -> Bool { blanks.contains { $0.hasPrefix(c.path + ".") } }
        for i in spec.steps.indices {
            spec.steps[i].checks = spec.steps[i].checks.flatMap { holdsBlank($0) ? fieldByField($0) : [$0] }
        }
        spec.finalChecks = spec.finalChecks.flatMap { holdsBlank($0) ? fieldByField($0) : [$0] }
        spec.points = points
        spec.partialCredit = partial
        let record = Runner.run(spec, file: sub.file, limits: limits)
        var result = record.result
        result.blanks = BlankTally(right: 0, total: blanks.count)
        guard case let .invalid(ds) = result.outcome else {
            let wrong = Set(unreadable.map(\.blank))
            let (right, notChecked) = judgeBlanks(blanks, unanswered: unansweredBlanks.union(wrong), answers: answers, spec: spec,
                                                  record: record, file: sub.file)
            result.blanks = BlankTally(right: right, total: blanks.count)
            finish(&result, extra: unanswered + unreadable.map(\.failure) + notChecked)
            return result
        }
        // The run itself refused the scenario: it is invalid, and the answers that could not be read say so too.
        result.outcome = .invalid(ds + unreadable.flatMap(\.errors))
        return result
    }

    /// An answer to a blank that does not decode: the blank is wrong, for the reason the errors give.
    struct UnreadableAnswer {
        var blank: String
        var errors: [Diagnostic]
        var at: SourceLocation

        /// The wrong blank as a failed check: the decode error, at its place, with its hints.
        var failure: CheckFailure {
            let why = "this answer cannot be read, so this blank is wrong; the other blanks are graded as usual"
            let hints = errors.flatMap(\.notes)
            return CheckFailure(path: blank, expected: "an answer that can be read",
                                actual: "error: " + errors.map(\.message).joined(separator: "; error: "), location: at,
                                note: hints.isEmpty ? why : hints.joined(separator: "; ") + " (\(why))")
        }
    }

    /// The answers that hold the errors of a decode, each with its errors, in the order of
    /// `answers`; nil when there is no error or one lies outside every answer (in another file,
    /// without a place, or in the submission outside the answers to blanks).
    static func unreadableAnswers(_ errors: [Diagnostic], in answers: [(path: String, node: YAMLNode)], file: String) -> [UnreadableAnswer]? {
        guard !errors.isEmpty else { return nil }
        var held: [String: [Diagnostic]] = [:]
        for e in errors {
            guard let at = e.location, at.file == file,
                  let a = answers.first(where: { YAMLTree.contains($0.node, line: at.line, column: at.column) }) else { return nil }
            held[a.path, default: []].append(e)
        }
        return answers.compactMap { a in
            guard let es = held[a.path], let at = es.first?.location else { return nil }
            return UnreadableAnswer(blank: a.path, errors: es, at: at)
        }
    }

    /// Whether one check path is the other, or holds it, or lies inside it.
    static func related(_ a: String, _ b: String) -> Bool {
        a == b || a.hasPrefix(b + ".") || b.hasPrefix(a + ".")
    }

    /// How many of the handout's blanks the run found right: answered, checked by at least one
    /// check that ran (a check at the blank, inside the answer, or holding the blank), and no
    /// failure at, inside or around the blank. Also the failures that say why a blank is wrong
    /// when the run reported none for it (an answer that checks nothing, a step never reached).
    static func judgeBlanks(_ blanks: [String], unanswered: Set<String>,
                            answers: [(path: String, blank: Bool, node: YAMLNode)],
                            spec: ScenarioSpec, record: RunRecord, file: String) -> (right: Int, failures: [CheckFailure]) {
        var failures: [CheckFailure] = []
        if case let .failed(fs) = record.result.outcome { failures = fs }
        // An error code's fields are checked in order and stop at the first wrong one: a failure
        // inside `error_code` counts against every blank in it.
        let failed = failures.map { f -> String in
            guard let r = f.path.firstRange(of: ".error_code.") else { return f.path }
            return String(f.path[..<r.lowerBound]) + ".error_code"
        }
        // The steps whose checks ran (the run stops at a step that cannot run or after a shutdown).
        var ran = Set<Int>()
        for (k, o) in record.outcomes.enumerated() where k < spec.steps.count && o.error == nil { ran.insert(k) }
        var checks: [(check: Check, ran: Bool)] = []
        for (k, step) in spec.steps.enumerated() { checks += step.checks.map { ($0, ran.contains(k)) } }
        checks += spec.finalChecks.map { ($0, true) }
        var right = 0
        var extra: [CheckFailure] = []
        for blank in blanks where !unanswered.contains(blank) {
            // A check with no field (`trace: []`, `gate: {}`) predicts nothing: it does not answer a blank.
            let covering = checks.filter { related($0.check.path, blank) && !$0.check.statesNoField }
            let at = answers.first { $0.path == blank || $0.path.hasPrefix(blank + ".") }.map { location(file, $0.node.start) }
                ?? SourceLocation(file: file, line: spec.location.line, column: 1)
            if failed.contains(where: { related($0, blank) }) { continue }
            if covering.isEmpty {
                extra.append(CheckFailure(path: blank, expected: "an answer that checks something", actual: "an answer that checks nothing", location: at))
            } else if covering.contains(where: { !$0.ran }) {
                extra.append(CheckFailure(path: blank, expected: "the answer checked", actual: "not checked: the run stopped at an earlier step", location: at))
            } else {
                right += 1
            }
        }
        return (right, extra)
    }

    /// A mapping check split into one check per field it states (gate, entry, a task's final
    /// state; a fault into its vector, its vector with the error code, its vector with cr2), each
    /// with the same path and place, so a failed field is reported at its own path.
    static func fieldByField(_ c: Check) -> [Check] {
        func with(_ k: Check.Kind) -> Check {
            var d = c
            d.kind = k
            return d
        }
        var out: [Check] = []
        switch c.kind {
        case let .gate(g?):
            let none = GateMatcher()
            if g.vector != nil { var m = none; m.vector = g.vector; out.append(with(.gate(m))) }
            if g.type != nil { var m = none; m.type = g.type; out.append(with(.gate(m))) }
            if g.dpl != nil { var m = none; m.dpl = g.dpl; out.append(with(.gate(m))) }
            if g.fromCPL != nil { var m = none; m.fromCPL = g.fromCPL; out.append(with(.gate(m))) }
            if g.toCPL != nil { var m = none; m.toCPL = g.toCPL; out.append(with(.gate(m))) }
            if g.stackSwitch != nil { var m = none; m.stackSwitch = g.stackSwitch; out.append(with(.gate(m))) }
            if g.interruptsEnabled != nil { var m = none; m.interruptsEnabled = g.interruptsEnabled; out.append(with(.gate(m))) }
        case let .entry(e):
            var none = e
            none.via = nil; none.cs = nil; none.ss = nil; none.ip = nil; none.sp = nil; none.cpl = nil
            if e.via != nil { var m = none; m.via = e.via; out.append(with(.entry(m))) }
            if e.cs != nil { var m = none; m.cs = e.cs; out.append(with(.entry(m))) }
            if e.ss != nil { var m = none; m.ss = e.ss; out.append(with(.entry(m))) }
            if e.ip != nil { var m = none; m.ip = e.ip; out.append(with(.entry(m))) }
            if e.sp != nil { var m = none; m.sp = e.sp; out.append(with(.entry(m))) }
            if e.cpl != nil { var m = none; m.cpl = e.cpl; out.append(with(.entry(m))) }
        case let .process(task, p):
            let none = ProcessMatcher()
            if p.state != nil { var m = none; m.state = p.state; out.append(with(.process(task, m))) }
            if p.exitCode != nil { var m = none; m.exitCode = p.exitCode; out.append(with(.process(task, m))) }
            if p.signal != nil { var m = none; m.signal = p.signal; out.append(with(.process(task, m))) }
            if p.ticks != nil { var m = none; m.ticks = p.ticks; out.append(with(.process(task, m))) }
        case let .fault(f?) where f.errorCode != nil || f.cr2 != nil:
            out.append(with(.fault(FaultMatcher(vector: f.vector))))
            if f.errorCode != nil { out.append(with(.fault(FaultMatcher(vector: f.vector, errorCode: f.errorCode)))) }
            if f.cr2 != nil { out.append(with(.fault(FaultMatcher(vector: f.vector, cr2: f.cr2)))) }
        default:
            break
        }
        return out.isEmpty ? [c] : out
    }

    /// Adds failures found outside the run (unanswered blanks, missing steps) as failed checks;
    /// a scenario left with no check at all fails.
    static func finish(_ result: inout ScenarioResult, extra: [CheckFailure]) {
        result.checkCount += extra.count
        switch result.outcome {
        case .passed where !extra.isEmpty: result.outcome = .failed(extra)
        case let .failed(fs): result.outcome = .failed(fs + extra)
        default: break
        }
        if result.checkCount == 0, result.outcome.isPassed {
            result.outcome = .failed([CheckFailure(path: "expect", expected: "at least one check", actual: "none",
                                                   location: SourceLocation(file: result.file, line: result.line, column: 1))])
        }
    }

    // MARK: Construct

    static let hiddenKeys = ["scenario", "description", "points", "partial", "steps", "expect"]

    static func gradeConstruct(_ hidden: Document, exercise: Exercise, submissionRoot: String, submission: Documents, limits: RunLimits,
                               load: LoadOptions) -> ScenarioResult {
        let (points, partial) = scoring(hidden.root, exercise)
        let description = hidden.root.value(forKey: "description")?.scalar
        guard let sub = submission.find(hidden.id) else {
            var r = missing(hidden.id, points: points, submission: submission.folder, problems: submission.problems)
            r.description = description
            return r
        }
        var ctx = DecodeContext(file: sub.file)
        var options = load
        options.root = submissionRoot
        guard var spec = ScenarioDecoder.decodeDocument(sub.root, ctx: &ctx, path: sub.file, options: options),
              !ctx.hasErrors else {
            return ScenarioResult(id: hidden.id, file: sub.file, line: sub.root.start.line, description: description, points: points,
                                  outcome: .invalid(ctx.diagnostics.filter { $0.severity == .error }), checkCount: 0, partial: partial)
        }
        // The student's own expectations do not count: the hidden ones replace them.
        for i in spec.steps.indices {
            spec.steps[i].checks = []
            spec.steps[i].mentionsFaults = false
        }
        var hctx = DecodeContext(file: "(hidden expectations)")
        var missingSteps: [CheckFailure] = []
        if let m = hctx.mapping(hidden.root, "hidden expectations", allowed: hiddenKeys) {
            if let steps = m["steps"], let items = hctx.sequence(steps, "steps") {
                for (i, item) in items.enumerated() {
                    guard !item.isNullScalar, let e = item.value(forKey: "expect") else { continue }
                    if item.mapping?.contains(where: { $0.key.scalar != "expect" }) == true {
                        hctx.error(item, "steps[\(i)] of hidden expectations holds only `expect`")
                    }
                    guard i < spec.steps.count else {
                        missingSteps.append(CheckFailure(path: "steps[\(i)]", expected: "a step \(i + 1) to check", actual: "\(spec.steps.count) steps",
                                                         location: location(sub.file, sub.root.start)))
                        continue
                    }
                    let (checks, mentions) = hctx.decodeStepExpect(e, path: "steps[\(i)].expect", names: spec.selectorNames, event: spec.steps[i].event)
                    spec.steps[i].checks = checks
                    spec.steps[i].mentionsFaults = mentions
                }
            }
            spec.finalChecks = hctx.decodeFinalExpect(m["expect"])
        }
        if hctx.hasErrors {
            return ScenarioResult(id: hidden.id, file: sub.file, line: sub.root.start.line, description: description, points: points,
                                  outcome: .invalid([Diagnostic(.error, "the exercise's hidden expectations for '\(hidden.id)' do not fit this submission (ask the course staff)",
                                                                at: location(sub.file, sub.root.start),
                                                                notes: hctx.diagnostics.filter { $0.severity == .error }.map(\.message))]),
                                  checkCount: 0, partial: partial)
        }
        spec.points = points
        spec.partialCredit = partial
        spec.description = description ?? spec.description
        var result = Runner.run(spec, file: sub.file, limits: limits).result
        finish(&result, extra: missingSteps)
        return result
    }
}
