// How a system call's result is written: by `run --update` into `returns:` (an errno by name, an address in
// hex, a count in decimal), and in a failed check's message (an address in hex, an errno with its name).

@testable import Scenario
import Testing

@Suite struct ReturnsTextTests {
    @Test("run --update writes returns as a scenario author would", arguments: [
        (Int64(3), "3"), (0, "0"), (-14, "-EFAULT"), (-9, "-EBADF"), (-38, "-ENOSYS"),
        (0x7FFF_F7FF_D000, "0x7ffff7ffd000"), (0xB7FF_F000, "0xb7fff000"), (-4096, "-4096"), (-200, "-200"),
    ])
    func update(value: Int64, text: String) {
        #expect(ExpectUpdater.returnsText(value) == text)
    }

    @Test("a failed returns check shows addresses in hex and errnos by name", arguments: [
        (Int64(3), "3"), (-14, "-14 (-EFAULT)"), (0x7FFF_F7FF_D000, "0x7ffff7ffd000"),
    ])
    func message(value: Int64, text: String) {
        #expect(ExpectationChecker.errnoText(value) == text)
    }
}
