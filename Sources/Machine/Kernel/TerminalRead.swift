// The terminal's read side (fds 0-2, /dev/console, /dev/tty), as Linux's tty layer reads a terminal in
// canonical mode, the mode a shell leaves it in (ICANON): `kernel.stdin` is the input typed so far.
// - drivers/tty/n_tty.c canon_copy_from_read_buf "copies one line of input up to and including the
//   line-delimiting character": a read returns at most one line, whatever its count (the rest of a line
//   longer than the count stays for the next read). At the end of `kernel.stdin` a line without '\n' is
//   returned as it is, as after ^D, and then read gives 0 (EOF).
// - drivers/tty/tty_io.c iterate_tty_read moves the line through `char kernel_buf[64]`: each chunk is
//   taken from the line discipline before copy_to_iter copies it out, and a copy that comes up short
//   ends the read (`return offset ? offset : retval`, -EFAULT when nothing was copied) with the rest of
//   that chunk already consumed: those bytes are lost, not left for the next read.

extension System {
    /// The size of iterate_tty_read's kernel buffer, the unit in which the line discipline hands out input.
    static let ttyReadChunk = 64

    /// The bytes a terminal read of `count` bytes takes from the input at `offset`: up to and including
    /// the first '\n', at most `count`.
    static func terminalReadBytes(_ input: [UInt8], from offset: Int, count: Int) -> [UInt8] {
        let rest = input.dropFirst(offset)
        let line = rest.firstIndex(of: UInt8(ascii: "\n")).map { rest[...$0] } ?? rest
        return Array(line.prefix(count))
    }

    /// How much of the input a terminal read that offered `taken` bytes and copied `copied` of them has
    /// consumed: all of them when the copy was whole, else up to the end of the 64-byte chunk whose copy
    /// came up short.
    static func terminalReadConsumed(taken: Int, copied: Int) -> Int {
        copied >= taken ? taken : min(taken, (copied / ttyReadChunk + 1) * ttyReadChunk)
    }
}
