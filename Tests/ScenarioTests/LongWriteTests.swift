// A write of more than the model's 1 MiB whose copy stops early is answered as Linux does: from a 64-bit task
// through `int 0x80`, write(1, buf, 0xffffffff) passes access_ok (the 64-bit limit) and MAX_RW_COUNT cuts it
// to 0x7ffff000; tty_write then copies 2048-byte chunks until the scratch page ends. It used to be refused
// as not modelled whatever the buffer. A buffer readable past 1 MiB is still refused.

@testable import Scenario
import Testing

@Suite struct LongWriteTests {
    @Test func longWriteStoppedByAnUnmappedPage() {
        let r = runScenarioText("""
        scenario: long-write
        machine: {mode: x86_64}
        processes:
          - name: app
            state: running
            memory:
              - {segment: data, start: 0x600000, pages: 1, perm: "rw-", populate: true}
        steps:
          - syscall: {via: int80, nr: write, args: [1, 0x600800, 0xffffffff]}
            expect: {returns: 2048}
          - syscall: {via: syscall, nr: write, args: [1, 0x600000, 0x7fffffff]}
            expect: {returns: 4096}
          - syscall: {via: syscall, nr: write, args: [1, 0x600100, 0x200000]}
            expect: {returns: 2048}
        """)
        guard case .passed? = r.first?.outcome else {
            Issue.record("\(String(describing: r.first?.outcome))")
            return
        }
    }

    @Test func longWriteReadableFurtherIsRefused() {
        let r = runScenarioText("""
        scenario: long-write-refused
        machine: {mode: x86_64}
        processes:
          - name: app
            state: running
            memory:
              - {segment: data, start: 0x600000, pages: 300, perm: "rw-", populate: true}
        steps:
          - syscall: {via: syscall, nr: write, args: [1, 0x600000, 0x200000]}
            expect: {returns: 0}
        """)
        guard case let .failed(fs)? = r.first?.outcome else {
            Issue.record("expected a refusal: \(String(describing: r.first?.outcome))")
            return
        }
        #expect(fs.contains { "\($0)".contains("not modelled") })
    }
}
