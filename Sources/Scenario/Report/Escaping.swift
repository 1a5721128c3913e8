// Escaping: how user data (ids, file names, messages, expected and actual values) is made safe
// before a reporter writes it. Every reporter goes through these, so a scenario can neither
// inject escape sequences into the terminal of whoever reads the report nor break the syntax
// of the JSON, XML or TAP around it. No Foundation: the rules are short and must not vary with
// platform or locale.

enum Escaping {
    // MARK: Terminal

    /// Characters a terminal may act on instead of print: C0 (U+0000-U+001F, ESC among them),
    /// DEL (U+007F) and C1 (U+0080-U+009F, CSI among them).
    static func isTerminalControl(_ value: UInt32) -> Bool {
        value < 0x20 || (0x7F...0x9F).contains(value) || isBidiControl(value)
    }

    /// The Unicode bidirectional embedding, override and isolate controls (LRE, RLE, PDF, LRO, RLO,
    /// U+202A-U+202E; LRI, RLI, FSI, PDI, U+2066-U+2069): invisible, they reorder the text around
    /// them on screen ("Trojan Source", CVE-2021-42574), so an id could make a report line read
    /// otherwise than it is. They are written visibly like the controls.
    static func isBidiControl(_ value: UInt32) -> Bool {
        (0x202A...0x202E).contains(value) || (0x2066...0x2069).contains(value)
    }

    /// `s` with every terminal control character written as a visible `\u{1b}`.
    /// With `keepingNewlines`, `\n` stays (the caller indents the lines); `\r` never does.
    static func terminal(_ s: String, keepingNewlines: Bool = false) -> String {
        if !s.utf8.contains(where: { mayBeTerminalControl($0) }) { return s }
        var out = ""
        out.reserveCapacity(s.utf8.count + 8)
        for scalar in s.unicodeScalars {
            if isTerminalControl(scalar.value) && !(keepingNewlines && scalar == "\n") {
                appendVisible(scalar.value, to: &out)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// `\u{1b}`: the visible form, in Swift's spelling, of a character that must not be written raw.
    static func appendVisible(_ value: UInt32, to out: inout String) {
        out += "\\u{"
        out += String(value, radix: 16)
        out += "}"
    }

    // MARK: JSON (RFC 8259)

    /// `s` as a JSON string literal, quotes included. Besides what JSON requires (`"`, `\`,
    /// U+0000-U+001F) it escapes DEL, C1 and the bidirectional controls, so `cat report.json` is
    /// terminal-safe, and
    /// U+2028/U+2029, which JavaScript before ES2019 does not accept inside string literals.
    static func json(_ s: String) -> String {
        var out = "\""
        if !s.utf8.contains(where: { $0 == 0x22 || $0 == 0x5C || mayBeTerminalControl($0) || $0 == 0xE2 }) {
            out += s
        } else {
            out.reserveCapacity(s.utf8.count + 16)
            for scalar in s.unicodeScalars {
                switch scalar.value {
                case 0x22: out += "\\\""
                case 0x5C: out += "\\\\"
                case 0x0A: out += "\\n"
                case 0x0D: out += "\\r"
                case 0x09: out += "\\t"
                case 0x08: out += "\\b"
                case 0x0C: out += "\\f"
                case let v where isTerminalControl(v) || v == 0x2028 || v == 0x2029:
                    out += "\\u"
                    out += hex(v, digits: 4)
                default: out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
        return out
    }

    // MARK: XML 1.0

    /// `s` as XML character data: markup characters as entities, `\r` as `&#13;` (a parser would
    /// turn a raw one into `\n`), and characters XML 1.0 forbids (C0 except tab, LF and CR;
    /// U+FFFE; U+FFFF) or discourages and terminals act on (DEL, C1) as visible `\u{1b}` text.
    static func xmlText(_ s: String) -> String {
        xml(s, inAttribute: false)
    }

    /// `s` as the value of a double- or single-quoted XML attribute: as `xmlText`, and tab and
    /// newline as character references, which survive attribute-value normalisation.
    static func xmlAttribute(_ s: String) -> String {
        xml(s, inAttribute: true)
    }

    private static func xml(_ s: String, inAttribute: Bool) -> String {
        let needsWork = s.utf8.contains { byte in
            switch byte {
            case 0x26, 0x3C, 0x3E, 0x22, 0x27, 0xEF: true  // & < > " ' and the lead byte of U+FFFE/U+FFFF
            default: mayBeTerminalControl(byte)
            }
        }
        if !needsWork { return s }
        var out = ""
        out.reserveCapacity(s.utf8.count + 16)
        for scalar in s.unicodeScalars {
            switch scalar.value {
            case 0x26: out += "&amp;"
            case 0x3C: out += "&lt;"
            case 0x3E: out += "&gt;"
            case 0x22: out += "&quot;"
            case 0x27: out += "&apos;"
            case 0x0D: out += "&#13;"
            case 0x0A where inAttribute: out += "&#10;"
            case 0x09 where inAttribute: out += "&#9;"
            case 0x0A, 0x09: out.unicodeScalars.append(scalar)
            case let v where isTerminalControl(v) || v == 0xFFFE || v == 0xFFFF:
                appendVisible(v, to: &out)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    // MARK: YAML (inside TAP diagnostics)

    /// `s` as a YAML 1.2 double-quoted scalar, quotes included: printable characters stay, the
    /// rest (controls, DEL, C1, line and paragraph separators, BOM, U+FFFE/U+FFFF) become escapes,
    /// so the scalar is always one line and reads back as exactly `s`.
    static func yamlDoubleQuoted(_ s: String) -> String {
        var out = "\""
        out.reserveCapacity(s.utf8.count + 8)
        for scalar in s.unicodeScalars {
            switch scalar.value {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x00: out += "\\0"
            case 0x1B: out += "\\e"
            case let v where v < 0x100 && isTerminalControl(v):
                out += "\\x"
                out += hex(v, digits: 2)
            case let v where v == 0x2028 || v == 0x2029 || v == 0xFEFF || v == 0xFFFE || v == 0xFFFF || isBidiControl(v):
                out += "\\u"
                out += hex(v, digits: 4)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
        return out
    }

    // MARK: TAP 14

    /// `s` as a TAP 14 test point description: one terminal-safe line, with `\` written `\\` and
    /// `#` written `\#` so that no part of it can be read as a directive (`# SKIP`, `# TODO`).
    static func tapDescription(_ s: String) -> String {
        let safe = terminal(s)
        if !safe.utf8.contains(where: { $0 == 0x5C || $0 == 0x23 }) { return safe }
        var out = ""
        out.reserveCapacity(safe.utf8.count + 8)
        for scalar in safe.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "#": out += "\\#"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    // MARK: Numbers

    /// A number as every reporter prints it: an integer when integral (`2`, not `2.0`), else the
    /// shortest decimal that reads back as the same Double (`0.5`, `1e-05`). Nil when not finite.
    static func number(_ d: Double) -> String? {
        guard d.isFinite else { return nil }
        if d == d.rounded(), abs(d) < 1e15 { return String(Int(d)) }
        return d.description
    }

    // MARK: Helpers

    /// Whether a UTF-8 byte may start a terminal control character: C0 or DEL themselves, 0xC2,
    /// the lead byte of U+0080-U+00BF (which holds C1), or 0xE2, that of U+2000-U+2FFF (which holds
    /// the bidirectional controls). Lets clean strings skip the slow path.
    private static func mayBeTerminalControl(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == 0x7F || byte == 0xC2 || byte == 0xE2
    }

    /// Lower-case hexadecimal, zero-padded to `digits`.
    private static func hex(_ value: UInt32, digits: Int) -> String {
        let h = String(value, radix: 16)
        return h.count >= digits ? h : String(repeating: "0", count: digits - h.count) + h
    }
}
