// SchemaNumberPattern: the regular expressions the JSON Schema uses for numbers written as strings.
// The format reads a quoted number as the same number and lets every integer be written in decimal,
// 0x hex, 0b binary or 0o octal with `_` separators (parseInteger); YAML gives the schema the plain
// spellings a YAML 1.1 reader types as integers, but `"0x20"` or `0o40` reach it as strings. These
// patterns accept exactly the strings parseInteger reads as the given values, so that `bits: 0x20`
// validates where the engine runs it. No backslash: the patterns go into the schema's JSON text as is.

enum SchemaNumberPattern {
    /// Any integer spelling parseInteger accepts (sign, base prefix, `_` between digits, not first or
    /// last); the value's range is not checked.
    static let integer = "^[-+]?(" + magnitude + ")$"

    /// The digits of an integer in one of parseInteger's bases, without a sign: `0x`, `0b` or `0o` and
    /// digits of that base, or decimal digits, with `_` between digits (not first or last). A decimal
    /// starts with a zero only when it is `0` (`010` is IntegerLiteral.leadingZero, refused).
    static let magnitude = "0[xX][0-9a-fA-F]([0-9a-fA-F_]*[0-9a-fA-F])?|0[bB][01]([01_]*[01])?|0[oO][0-7]([0-7_]*[0-7])?|0|[1-9]([0-9_]*[0-9])?"

    /// `integer` without a sign: a table index (`0x14:` and `20:` are one index).
    static let unsigned = "^[+]?(" + magnitude + ")$"

    /// The spellings of exactly these non-negative values: `+` allowed, leading zeros after a base
    /// prefix (not in decimal: `010` is refused) and `_` separators allowed, `-` not (a choice: `bits`, `default_size`, an access `size`), except
    /// before a zero when `minusZero` (a ranged number: uint reads `-0` as 0; a DPL, an IST index).
    static func oneOf(_ values: [UInt64], minusZero: Bool = false) -> String {
        let spell = { (v: UInt64) in
            [("", 10), ("0[xX]", 16), ("0[bB]", 2), ("0[oO]", 8)].map { prefix, radix in prefix + digits(v, radix: radix) }
        }
        let positive = "[+]?(" + values.flatMap(spell).joined(separator: "|") + ")"
        guard minusZero && values.contains(0) else { return "^" + positive + "$" }
        return "^(" + positive + "|-(" + spell(0).joined(separator: "|") + "))$"
    }

    /// `value`'s digits in `radix`, with optional leading zeros after a base prefix (none in decimal,
    /// IntegerLiteral.leadingZero) and `_` after any digit but the last (parseInteger refuses a `_`
    /// first or last); hex letters in either case.
    static func digits(_ value: UInt64, radix: Int) -> String {
        let text = String(value, radix: radix)
        let cells = text.map { c -> String in
            let lower = String(c), upper = lower.uppercased()
            return lower == upper ? lower : "[\(lower)\(upper)]"
        }
        // After a base prefix a leading zero may be followed by more zeros and separators before the
        // value's first digit.
        return (radix == 10 ? "" : "(0[0_]*)?") + cells.joined(separator: "_*")
    }

    /// A number for `points`: any integer spelling, or a decimal fraction as Double(String) reads it
    /// (the range, 0 to 1000000, is the schema's for numbers and the engine's for strings).
    /// An integer with a leading zero (`01`) is refused there too, so the fraction needs its point or exponent.
    static let decimal = "^[+]?(" + magnitude + "|([0-9]+[.][0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?|[0-9]+[eE][-+]?[0-9]+)$"
}
