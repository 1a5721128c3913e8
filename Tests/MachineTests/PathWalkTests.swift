// open/stat/execve paths walked as fs/namei.c does, over a file table holding /etc/motd (so /etc is a
// directory) and the devices: slashes and dots, a file used as a directory, trailing slashes with and
// without O_CREAT, NAME_MAX, directories. Each row is a fresh system; the descriptor of a successful open
// is 3.
import Testing
@testable import Machine

struct PathCase: Sendable, CustomTestStringConvertible {
    let call: String
    let path: String
    let flags: Int64
    let returns: Int64
    var testDescription: String { "\(call)(\"\(path.prefix(40))\", \(flags)) -> \(returns)" }
}

private let pathCases: [PathCase] = [
    PathCase(call: "open", path: "/etc/motd", flags: 0, returns: 3),
    PathCase(call: "open", path: "//etc///motd", flags: 0, returns: 3),
    PathCase(call: "open", path: "/./etc/./motd", flags: 0, returns: 3),
    PathCase(call: "open", path: "/etc/../etc/motd", flags: 0, returns: 3),
    PathCase(call: "open", path: "/../etc/motd", flags: 0, returns: 3),
    PathCase(call: "open", path: "/dev/../dev/null", flags: 1, returns: 3),
    // a file where a directory is needed
    PathCase(call: "open", path: "/etc/motd/", flags: 0, returns: -20),
    PathCase(call: "open", path: "/etc/motd/x", flags: 0x41, returns: -20),
    PathCase(call: "open", path: "/etc/motd/.", flags: 0, returns: -20),
    PathCase(call: "open", path: "/etc/motd/..", flags: 0, returns: -20),
    PathCase(call: "open", path: "/dev/null/", flags: 1, returns: -20),
    PathCase(call: "stat", path: "/etc/motd/", flags: 0, returns: -20),
    PathCase(call: "execve", path: "/etc/motd/x", flags: 0, returns: -20),
    // trailing slash: O_CREAT refuses it before the lookup, even on an existing file
    PathCase(call: "open", path: "/new/", flags: 0x41, returns: -21),
    PathCase(call: "open", path: "/etc/motd/", flags: 0x42, returns: -21),
    PathCase(call: "open", path: "/new/", flags: 0, returns: -2),
    // directories: O_CREAT or write access -EISDIR; execve -EACCES
    PathCase(call: "open", path: "/etc", flags: 0x41, returns: -21),
    PathCase(call: "open", path: "/etc/.", flags: 0x40, returns: -21),
    PathCase(call: "open", path: "/", flags: 0x40, returns: -21),
    PathCase(call: "open", path: "/etc", flags: 1, returns: -21),
    PathCase(call: "open", path: "/etc/", flags: 2, returns: -21),
    PathCase(call: "execve", path: "/etc", flags: 0, returns: -13),
    // NAME_MAX: any component, O_CREAT or not; 255 bytes is a name
    PathCase(call: "open", path: "/" + String(repeating: "a", count: 256), flags: 0, returns: -36),
    PathCase(call: "open", path: "/" + String(repeating: "a", count: 256), flags: 0x41, returns: -36),
    PathCase(call: "open", path: "/" + String(repeating: "d", count: 300) + "/f", flags: 0x41, returns: -36),
    PathCase(call: "stat", path: "/x/" + String(repeating: "a", count: 256), flags: 0, returns: -36),
    PathCase(call: "open", path: "/" + String(repeating: "a", count: 255), flags: 0, returns: -2),
    PathCase(call: "open", path: "/" + String(repeating: "a", count: 255), flags: 0x41, returns: 3),
    // the file a component after it would need is checked before that component's NAME_MAX
    PathCase(call: "open", path: "/etc/motd/" + String(repeating: "a", count: 256), flags: 0, returns: -20),
    // a new file in a directory the table does not know yet (every directory a path names exists)
    PathCase(call: "open", path: "/tmp/out", flags: 0x41, returns: 3),
    PathCase(call: "open", path: "/tmp/out", flags: 0, returns: -2),
]

@Suite struct PathWalkTests {
    @Test(arguments: pathCases)
    func walkMatchesLinux(_ c: PathCase) throws {
        var sys = try makeSystem(.x86_64, tasks: [taskSpec("A", state: .running)]) { _, k in
            k.files = ["/etc/motd": Array("hi\n".utf8)]
        }
        let args: [SyscallArgument] = c.call == "open" ? [.string(c.path), .number(UInt64(c.flags)), .number(0o644)]
            : [.string(c.path), .number(0), .number(0)]
        let o = sys.call(.syscall, c.call, args)
        #expect(o.error == nil)
        #expect(o.returns == c.returns)
    }

    /// do_sys_openat2: getname (-EFAULT, -ENOENT for "") before get_unused_fd_flags (-EMFILE), before the walk:
    /// with every descriptor 0-1023 open, a missing file, an O_EXCL clash or a file used as a directory are all
    /// -EMFILE.
    @Test(arguments: [("/missing", Int64(0), Int64(-24)), ("/etc/motd", 0xc2, -24), ("/etc/motd/x", 0, -24),
                      ("", 0, -2), ("/new", 0x1_0040, -22)])
    func fullDescriptorTableIsCheckedAfterGetname(_ c: (path: String, flags: Int64, returns: Int64)) throws {
        var t = taskSpec("A", state: .running)
        t.files = Dictionary(uniqueKeysWithValues: (0..<1024).map { ($0, "stdout") })
        var sys = try makeSystem(.x86_64, tasks: [t]) { _, k in k.files = ["/etc/motd": Array("hi\n".utf8)] }
        #expect(sys.call(.syscall, "open", [.string(c.path), .number(UInt64(c.flags)), .number(0)]).returns == c.returns)
    }

    /// A file declared under a relative name is opened by that name as written.
    @Test func relativeDeclaredNameOpens() throws {
        var sys = try makeSystem(.x86_64, tasks: [taskSpec("A", state: .running)]) { _, k in k.files = ["log": []] }
        #expect(sys.call(.syscall, "open", [.string("log"), .number(1), .number(0)]).returns == 3)
        let o = sys.call(.syscall, "open", [.string("./log"), .number(1), .number(0)])
        #expect(o.error?.hasPrefix("not modelled") == true)
    }

    /// What the model cannot walk is refused, not guessed: a relative path (no working directory), a ".."
    /// out of a directory the table does not hold, a directory opened for reading, stat of a directory, O_PATH
    /// and O_TMPFILE.
    @Test(arguments: [("open", "/etc/motd", Int64(0x20_0000)), ("open", "/etc", 0x41_0002), ("open", "motd", Int64(0)), ("open", "/tmp/../etc/motd", 0), ("open", "/etc", 0),
                      ("open", "/", 0x10000), ("stat", "/etc", 0), ("execve", "etc/motd", 0)])
    func refusedNotGuessed(_ c: (call: String, path: String, flags: Int64)) throws {
        var sys = try makeSystem(.x86_64, tasks: [taskSpec("A", state: .running)]) { _, k in
            k.files = ["/etc/motd": Array("hi\n".utf8), "log": []]
        }
        let o = sys.call(.syscall, c.call, [.string(c.path), .number(UInt64(c.flags)), .number(0)])
        #expect(o.error?.hasPrefix("not modelled") == true)
    }
}
