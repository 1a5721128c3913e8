// Allocating a large page forgets the frames already written in its range (it must read as zero),
// and costs nothing when no frame was ever written there: 262,144 2 MiB pages took 20 s to build
// (512 frame removals each once the machine had 512 frames), with no step for a time limit to stop.
import Testing
@testable import Machine

@Suite struct LargePageZeroingTests {
    /// A frame written inside the next large page reads as zero once that page is allocated.
    @Test(arguments: [0x20_0000 as UInt64, 0x40_0000, 0x4000_0000])
    func framesWrittenInALargePageAreForgotten(bytes: UInt64) throws {
        var m = PhysicalMemory()
        try m.write8(0x0200_0000, 0x11)  // a data frame, below the large pool
        let next = m.allocator.nextLarge
        let aligned = (next + bytes - 1) & ~(bytes - 1)
        try m.write8(aligned + bytes - 1, 0xAB)
        try m.write8(aligned + 0x1234, 0xCD)
        let a = try m.allocateLargePage(bytes: bytes)
        #expect(a == aligned)
        #expect(m.read8(aligned + bytes - 1) == 0)
        #expect(m.read8(aligned + 0x1234) == 0)
        #expect(m.read8(0x0200_0000) == 0x11)
    }

    /// Many fresh large pages after many frames: linear, not frames x pages.
    @Test(.timeLimit(.minutes(1))) func manyFreshLargePagesAreCheap() throws {
        var m = PhysicalMemory()
        for i in 0..<1024 as Range<UInt64> { try m.write8(0x0200_0000 + i * 0x1000, 1) }
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<131_072 { _ = try m.allocateLargePage(bytes: 0x20_0000) }
        #expect(clock.now - start < .seconds(5))
        #expect(m.frameCount == 1024)
    }
}
