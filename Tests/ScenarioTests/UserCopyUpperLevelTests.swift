// UserCopyUpperLevelTests: the kernel's copy_from_user/copy_to_user walk the whole paging structure (PG-5,
// PG-12), not only the leaf. A not-present PDE over a present leaf is a not-present page: with no VMA
// there the copy is -EFAULT (it returned the byte count); a PDE with U/S=0 makes the page supervisor-only,
// which the model refuses as for a supervisor leaf.

@testable import Scenario
import Testing

@Suite struct UserCopyUpperLevelTests {
    static func returns(_ pde: String, nr: String, mode: String) -> String {
        guard case let .spec(spec, warnings)? = decodeText("""
            scenario: t
            machine: {mode: \(mode)}
            kernel: {stdin: "abcd"}
            processes:
              - name: A
                state: running
                pages:
                  - {virt: 0x10000000, user: true, writable: true\(pde)}
            steps:
              - syscall: {via: int80, nr: \(nr), args: [\(nr == "write" ? 1 : 0), 0x10000000, 4]}
                expect: {returns: 0}
            """).first else { return "the scenario does not load" }
        let record = Runner.run(spec, file: "t.yaml", warnings: warnings, limits: RunLimits())
        if case .passed = record.result.outcome { return "0" }
        guard case let .failed(fs) = record.result.outcome else { return "\(record.result.outcome)" }
        return fs.map(\.actual).joined(separator: "; ")
    }

    @Test(arguments: [
        ("", "write", "x86_64", "4"),
        (", pde: {present: false}", "write", "x86_64", "-14 (-EFAULT)"),
        (", pde: {present: false}", "read", "x86_64", "-14 (-EFAULT)"),
        (", pde: {user: false}", "write", "x86_64", "-14 (-EFAULT)"),
        (", pdpte: {present: false}", "write", "x86_64", "-14 (-EFAULT)"),
        (", pde: {present: false}", "write", "ia32", "-14 (-EFAULT)"),
        (", pde: {writable: false}", "read", "ia32", "-14 (-EFAULT)"),
        (", pde: {writable: false}", "write", "ia32", "4"),
    ])
    func copiesWalkEveryLevel(pde: String, nr: String, mode: String, result: String) {
        #expect(Self.returns(pde, nr: nr, mode: mode) == result)
    }
}
