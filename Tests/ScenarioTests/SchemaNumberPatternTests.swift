// The schema's number patterns accept exactly what the decoder reads (parseInteger): `bits: 0x20` and
// `bits: "32"` validate in an editor because the engine runs them, `bits: 0x21`, `-32`, `0x_20` do not,
// nor a leading-zero decimal (`032`, which YAML 1.1 reads as octal and YAML 1.2 as decimal).

import Foundation
@testable import Scenario
import Testing

@Suite struct SchemaNumberPatternTests {
    static func matches(_ pattern: String, _ text: String) -> Bool {
        guard let re = try? NSRegularExpression(pattern: pattern) else { return false }
        return re.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    /// (values of the choice, a spelling, whether the decoder reads it as one of the values)
    @Test("a numeric choice's pattern agrees with parseInteger", arguments: [
        ([32, 64], "32", true), ([32, 64], "0x20", true), ([32, 64], "0X40", true), ([32, 64], "0b100000", true),
        ([32, 64], "0o40", true), ([32, 64], "0o1_00", true), ([32, 64], "+64", true), ([32, 64], "032", false),
        ([32, 64], "0_32", false), ([32, 64], "0x020", true), ([32, 64], "0o040", true), ([32, 64], "6_4", true), ([32, 64], "0x0_40", true),
        ([32, 64], "33", false), ([32, 64], "-32", false), ([32, 64], "0x_20", false), ([32, 64], "32_", false),
        ([32, 64], "0x21", false), ([32, 64], "320", false), ([32, 64], "3 2", false), ([32, 64], "thirty-two", false),
        ([16, 32], "0x10", true), ([16, 32], "0b10000", true), ([16, 32], "0o20", true), ([16, 32], "0xa", false),
        ([1, 2, 4, 8], "0x8", true), ([1, 2, 4, 8], "0b100", true), ([1, 2, 4, 8], "0o10", true), ([1, 2, 4, 8], "01", false),
        ([1, 2, 4, 8], "3", false), ([1, 2, 4, 8], "0x10", false), ([1, 2, 4, 8], "16", false), ([1, 2, 4, 8], "0", false),
    ] as [([UInt64], String, Bool)])
    func oneOf(values: [UInt64], text: String, accepted: Bool) {
        #expect(Self.matches(SchemaNumberPattern.oneOf(values), text) == accepted)
        let decoded: Bool
        if case let .value(v, false) = parseInteger(text) { decoded = values.contains(v) } else { decoded = false }
        #expect(decoded == accepted, "the table disagrees with parseInteger on \(text)")
    }

    /// A ranged number (uint with a maximum): a DPL 0-3.
    @Test("a privilege level's pattern agrees with uint(max: 3)", arguments: [
        ("0", true), ("3", true), ("00", false), ("03", false), ("0x0", true), ("0b11", true), ("0o3", true), ("+2", true),
        ("0_3", false), ("-0", true), ("-0x0", true), ("4", false), ("-1", false), ("0x4", false), ("03_", false),
        ("0b100", false), ("ring0", false), ("+-0", false), ("-+0", false),
    ])
    func privilege(text: String, accepted: Bool) {
        #expect(Self.matches(SchemaNumberPattern.oneOf([0, 1, 2, 3], minusZero: true), text) == accepted)
        let decoded: Bool
        if case let .value(v, negative) = parseInteger(text) { decoded = v <= 3 && (!negative || v == 0) } else { decoded = false }
        #expect(decoded == accepted, "the table disagrees with parseInteger on \(text)")
    }

    @Test("the integer patterns agree with parseInteger", arguments: [
        "0", "12", "-7", "+7", "0x1f", "0XdeadBEEF", "0b1010", "0o17", "1_000", "0x_1", "1_", "_1", "0x", "0b2",
        "0o8", "12a", "", "0x1_", "--1", "0b_1", "0o7_7", "010", "-010", "+07", "00", "0_1", "0x010", "100",
    ])
    func integer(text: String) {
        let decoded: Bool
        if case .value = parseInteger(text) { decoded = true } else { decoded = false }
        #expect(Self.matches(SchemaNumberPattern.integer, text) == decoded, "\(text)")
        #expect(Self.matches(SchemaNumberPattern.unsigned, text) == (decoded && !text.hasPrefix("-")), "\(text)")
    }

    @Test("the schema text uses the patterns and is valid JSON")
    func schemaUsesThem() throws {
        let json = ScenarioSchema.json
        #expect(json.contains(SchemaNumberPattern.oneOf([32, 64])))
        #expect(json.contains(SchemaNumberPattern.oneOf([16, 32])))
        #expect(json.contains(SchemaNumberPattern.oneOf([1, 2, 4, 8])))
        #expect(json.contains(SchemaNumberPattern.integer))
        #expect(!json.contains("\"32\",\n"), "bits lists its spellings by pattern, not one by one")
        _ = try JSONSerialization.jsonObject(with: Data(json.utf8))
    }
}
