// Format-contract tests: statements of scenario-format.md, each run as a scenario that must pass
// (or fail, or be invalid) exactly as the contract says.

import Machine
@testable import Scenario
import Testing

@Suite struct FormatContractTests {
    func passes(_ yaml: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        let r = runScenarioText(yaml)
        #expect(r.count == 1 && r.allSatisfy { $0.outcome.isPassed }, "\(r.map(\.outcome))", sourceLocation: sourceLocation)
    }

    /// gdt as a list in x86_64: the `null` after a 16-byte call gate is its upper half, which keeps
    /// offset bits 63:32 (it was overwritten with zero, and the gate led to 0x81000000).
    @Test func listGDTKeepsTheUpperHalfOfA16ByteGate() {
        passes("""
        scenario: gdt-list-x86_64-call-gate
        machine:
          mode: x86_64
          gdt:
            - null
            - {name: kcs, type: code, long: true}
            - {name: kds, type: data}
            - {name: ucs32, type: code, dpl: 3}
            - {name: uds, type: data, dpl: 3}
            - {name: ucs, type: code, long: true, dpl: 3}
            - {name: gate, type: call_gate, dpl: 3, selector: kcs, offset: 0xffffffff81000000}
            - null
            - {name: tss, type: tss64, rsp0: 0xffff888000100000}
            - null
        kernel: none
        processes:
          - {name: main, state: running, context: {cs: "ucs:3", ss: "uds:3"}}
        steps:
          - exec: "call far gate:3:0"
            expect: {fault: none, cpl: 0, regs: {rip: 0xffffffff81000000}}
        """)
    }

    /// "A table's limit covers its highest entry": the LDT descriptor's default limit covers every
    /// entry of machine.ldt, named or not (it covered only the highest named one).
    @Test func ldtLimitCoversItsHighestEntry() {
        passes("""
        scenario: ldt-unnamed-entries
        machine:
          mode: ia32
          gdt: {9: {name: myldt, type: ldt}}
          ldt:
            - null
            - {name: first, type: data, dpl: 3}
            - {type: data, dpl: 3}
        kernel: none
        steps:
          - exec: "mov ds, 0x17"
            expect: {fault: none, regs: {ds: 0x17}}
        """)
    }

    /// `ldt` as a map from index to descriptor (was refused: "ldt must be a list").
    @Test func ldtAsAMap() {
        passes("""
        scenario: ldt-map
        machine:
          mode: ia32
          gdt: {9: {name: myldt, type: ldt}}
          ldt: {2: {name: l2, type: data, dpl: 3}}
        kernel: none
        steps:
          - exec: "mov ds, l2:3"
            expect: {fault: none, regs: {ds: 0x17, ldtr: myldt}}
          - exec: "mov es, 0xf"
            expect: {fault: {vector: GP, error_code: {selector: 0xc}}}
        """)
    }

    /// "Anywhere a selector is expected ... {index, ti: gdt|ldt, rpl}": in exec operands too (was
    /// an error, "RPL ' 3}' must be 0-3").
    @Test func execTakesASelectorMap() {
        passes("""
        scenario: exec-selector-maps
        machine:
          mode: ia32
          gdt: {9: {name: myldt, type: ldt}}
          ldt: [null, {type: data, dpl: 3}]
        kernel: none
        steps:
          - exec: "mov ds, {index: 1, ti: ldt, rpl: 3}"
            expect: {fault: none, regs: {ds: {index: 1, ti: ldt, rpl: 3}}}
          - exec: "call far {index: 1, ti: ldt, rpl: 3}:0x10"
            expect: {fault: {vector: GP, error_code: {selector: {index: 1, ti: ldt}}}}
        """)
        let bad = runScenarioText("""
        scenario: bad
        machine: {mode: ia32}
        kernel: none
        steps:
          - exec: "mov es, {index: 2, tl: ldt}"
        """)
        guard case let .invalid(d)? = bad.first?.outcome else { Issue.record("not invalid"); return }
        #expect(d.first?.message.contains("unknown key 'tl'") == true)
        #expect(d.first?.notes.contains("did you mean 'ti'?") == true)
    }

    /// `signal` names are checked like every other name (a misspelt `SIGSEV` was a check that could
    /// only fail, with no hint), and accepted in any case, without SIG, or as a number.
    @Test func signalNamesAreCheckedAndNormalised() {
        passes("""
        scenario: sig
        machine: {mode: x86_64}
        processes: [{name: m, state: running}]
        steps:
          - access: {op: write, addr: 0x10}
            expect: {fault: PF, signal: segv}
        expect:
          processes: {m: {state: zombie, signal: 11}}
        """)
        let bad = runScenarioText("""
        scenario: sig-bad
        machine: {mode: x86_64}
        processes: [{name: m, state: running}]
        steps:
          - access: {op: write, addr: 0x10}
            expect: {fault: PF, signal: SIGSEV}
        """)
        guard case let .invalid(d)? = bad.first?.outcome else { Issue.record("not invalid"); return }
        #expect(d.first?.location?.line == 6 && d.first?.location?.column == 33)
        #expect(d.first?.notes.contains("did you mean 'SIGSEGV'?") == true)
    }

    /// `"none"` quoted means none (YAML gives plain and quoted the same string); it was "unknown exception 'none'".
    @Test func quotedNone() {
        passes("""
        scenario: none-quoted
        machine: {mode: x86_64}
        kernel: none
        steps:
          - exec: nop
            expect: {fault: "none", gate: 'none', switch: "none", signal: "none", faults: "none"}
        """)
    }

    /// `regs` after a failed system call: `rax: -9` / `eax: -9` (two's complement in the register's
    /// width; was "must not be negative"); 32- and 16-bit names compare their low bits.
    @Test func negativeRegisterValues() {
        passes("""
        scenario: regs-negative
        machine: {mode: x86_64}
        steps:
          - syscall: {via: syscall, nr: close, args: [99]}
            expect: {returns: -EBADF, regs: {rax: -9, eax: -9, ax: -9}}
        """)
        passes("""
        scenario: regs-widths
        machine: {mode: x86_64}
        kernel: none
        steps:
          - exec: "mov rax, 0xffffffff00001234"
            expect: {regs: {rax: 0xffffffff00001234, eax: 0x1234, ax: 0x1234}}
          - exec: "mov r9, 0xfffffffffffffff7"
            expect: {regs: {r9: -9, r9d: -9}}
        """)
        let r = runScenarioText("""
        scenario: regs-wrong
        machine: {mode: x86_64}
        kernel: none
        steps:
          - exec: "mov r9, 0xfffffffffffffff7"
            expect: {regs: {r9d: -8}}
        """)
        #expect(failures(r[0]).map(\.path) == ["steps[0].expect.regs.r9d"])
    }

    /// Two TSS descriptors without `name` got the same default base (that of slot 0), so one
    /// TSS image replaced the other: a task switch to entry 20 loaded entry 21's EIP.
    @Test func unnamedTSSDescriptorsHaveTheirOwnImages() {
        passes("""
        scenario: two-unnamed-tss
        machine:
          mode: ia32
          gdt:
            20: {type: tss32, dpl: 3, eip: 0xc0100000, esp: 0xc0200000, cs: kernel_cs, ss: kernel_ds, ds: kernel_ds, es: kernel_ds}
            21: {type: tss32, dpl: 3, eip: 0xc0300000, esp: 0xc0400000, cs: kernel_cs, ss: kernel_ds, ds: kernel_ds, es: kernel_ds}
        kernel: none
        steps:
          - exec: "jmp far 0xa0:0"
            expect: {fault: none, regs: {eip: 0xc0100000, esp: 0xc0200000, tr: 0xa0}}
        """)
    }

    /// "unknown name ... with a did you mean hint": a misspelt task name was a check that could only
    /// fail at run time, without a hint. Forked children's names are known too.
    @Test func taskNamesAreChecked() {
        let r = runScenarioText("""
        scenario: typo
        machine: {mode: x86_64}
        processes:
          - {name: shell, state: running}
        steps:
          - syscall: {via: syscall, nr: fork}
          - syscall: {via: syscall, nr: fork, name: worker}
          - syscall: {via: syscall, nr: wait4, args: [-1, 0, 0, 0]}
            expect:
              switch: {from: shell, to: shell-child, reason: blocking}
              states: {shel: blocked, worker: ready, shell-child2: ready}
          - exit: 0
            as: shell-chld
        expect:
          processes: {shell-child-child: {state: zombie}}
        """)
        guard case let .invalid(d)? = r.first?.outcome else { Issue.record("not invalid: \(r)"); return }
        // `shell-child2` could be a forked child's name (the check is by name, not by run).
        #expect(d.map(\.message) == ["no task is named 'shel'", "no task is named 'shell-chld'"], "\(d.map(\.message))")
        #expect(d.first?.notes == ["did you mean 'shell'?"])
        #expect(d.contains { $0.message == "no task is named 'shell-chld'" && $0.notes == ["did you mean 'shell-child'?"] })
    }

    /// `mov REG, -1` was refused ("SRC must be a number"); `mov eax, 0x100000000` set RAX to 2^32.
    /// `wait: 2` was refused ("must be a mapping").
    @Test func movImmediateWidthsAndScalarWait() {
        passes("""
        scenario: mov-imm
        machine: {mode: x86_64}
        kernel: none
        steps:
          - exec: "mov rax, -1"
            expect: {regs: {rax: 0xffffffffffffffff}}
          - exec: "mov eax, -2"
            expect: {regs: {rax: 0xfffffffe}}
        """)
        let big = runScenarioText("""
        scenario: mov-too-big
        machine: {mode: x86_64}
        kernel: none
        steps:
          - exec: "mov eax, 0x100000000"
        """)
        guard case let .invalid(d)? = big.first?.outcome else { Issue.record("not invalid"); return }
        #expect(d.first?.message.contains("does not fit in 32 bits") == true)
        passes("""
        scenario: wait-scalar
        machine: {mode: x86_64}
        processes: [{name: p, state: running}]
        steps:
          - syscall: {via: syscall, nr: fork}
          - wait: 2
            expect: {switch: {to: p-child, reason: blocking}}
          - exit: 4
          - wait: -1
            expect: {returns: -ECHILD}
        """)
    }

    /// `points` is an integer in any of the format's forms (`1_0`, `0b11` were "must be a number").
    @Test func pointsTakeEveryIntegerForm() {
        let docs = decodeText("""
        scenario: p
        points: 1_0
        kernel: none
        steps: [{exec: nop, expect: {fault: none}}]
        ---
        scenario: q
        points: 0b11
        kernel: none
        steps: [{exec: nop, expect: {fault: none}}]
        ---
        scenario: r
        points: 0.5
        kernel: none
        steps: [{exec: nop, expect: {fault: none}}]
        """)
        let points = docs.map { d -> Double? in if case let .spec(s, _) = d { return s.points } else { return nil } }
        #expect(points == [10, 3, 0.5])
    }

    /// `tss.name` must name a TSS descriptor (naming kernel_cs loaded no TR, and the first
    /// delivery to ring 0 raised #TS).
    @Test func tssNameMustNameATSS() {
        let r = runScenarioText("""
        scenario: tss-name-wrong
        machine: {mode: ia32, tss: {name: kernel_cs}}
        kernel: none
        steps:
          - exec: "int 0x80"
        """)
        guard case let .invalid(d)? = r.first?.outcome else { Issue.record("not invalid"); return }
        #expect(d.first?.message.contains("not a TSS descriptor") == true)
        passes("""
        scenario: tss-name-preset
        machine: {mode: x86_64, tss: {name: tss, rsp0: 0xffff888000500000}}
        kernel: none
        steps:
          - exec: "int 0x80"
            expect: {fault: none, regs: {tr: tss, rsp: 0xffff8880004fffd8}}
        """)
        passes("""
        scenario: tss-name-x
        machine:
          mode: ia32
          gdt: {20: {name: t2, type: tss32}}
          tss: {name: t2, esp0: 0xc0300000, ss0: kernel_ds}
        kernel: none
        steps:
          - exec: "int 0x80"
            expect: {fault: none, regs: {tr: t2, esp: 0xc02fffec}}
        """)
    }

    /// An IDT task gate written with `selector` (the SDM's name for its TSS selector) kept the
    /// preset's kernel_cs instead; with neither `tss` nor `selector` it is null, not kernel_cs.
    @Test func taskGateSelector() {
        passes("""
        scenario: task-gate-selector
        machine:
          mode: ia32
          gdt:
            20: {name: t2, type: tss32, eip: 0xc0100000, esp: 0xc0200000, cs: kernel_cs, ss: kernel_ds, ds: kernel_ds, es: kernel_ds}
          idt:
            0x81: {type: task, dpl: 3, selector: t2}
        kernel: none
        steps:
          - exec: "int 0x81"
            expect: {fault: none, regs: {tr: t2, eip: 0xc0100000}}
        """)
        passes("""
        scenario: task-gate-null
        machine: {mode: ia32, idt: {0x81: {type: task, dpl: 3}}}
        kernel: none
        steps:
          - exec: "int 0x81"
            expect: {fault: {vector: GP, error_code: 0}}
        """)
    }

    /// A gate added at a vector the linux preset leaves empty, written without `selector`, had a null
    /// selector (#GP on use); it now targets the preset's kernel code segment.
    @Test func newGateDefaultsToKernelCS() {
        passes("""
        scenario: new-gate
        machine:
          mode: ia32
          idt: {0x90: {type: trap, dpl: 3, offset: 0xc0100000}}
        kernel: none
        steps:
          - exec: "int 0x90"
            expect: {fault: none, cpl: 0, regs: {cs: kernel_cs, eip: 0xc0100000}, gate: {vector: 0x90, type: trap}}
        """)
    }

    /// A step whose event is wrong still has its expect checked, so every error of the file is
    /// reported at once (the misspelt `fualt` went unreported until the event was fixed).
    @Test func expectOfABadEventIsStillChecked() {
        let r = runScenarioText("""
        scenario: errs
        kernel: none
        steps:
          - access: {op: READ, addr: 0x1000}
            expect: {fualt: GP}
        """)
        guard case let .invalid(d)? = r.first?.outcome else { Issue.record("not invalid"); return }
        #expect(d.map(\.message) == ["unknown access op 'READ'", "unknown key 'fualt' in steps[0].expect"])
    }

    /// `context: {rflags: {iopl: 3, ac: true}}`, the flag-map form of machine.rflags (was "must be a number").
    @Test func contextRFlagsAsAFlagMap() {
        passes("""
        scenario: ctx-rflags-map
        machine: {mode: x86_64}
        processes:
          - {name: a, context: {rflags: {iopl: 3, ac: true}}}
        steps:
          - syscall: {via: syscall, nr: getpid}
            expect: {rflags: {iopl: 3, ac: true, if: true}}
        """)
    }

    /// With `paging: off` page mappings were dropped without a word (an access "passed" through
    /// a mapping that did not exist); they are now an error.
    @Test func pagesWithPagingOffAreAnError() {
        let r = runScenarioText("""
        scenario: paging-off-pages
        machine:
          mode: ia32
          paging: off
          pages: [{virt: 0x40000000, phys: 0x800000, user: true}]
        kernel: none
        processes:
          - {name: t, pages: []}
        steps:
          - access: {op: read, addr: 0x40000000}
            expect: {fault: none}
        """)
        guard case let .invalid(d)? = r.first?.outcome else { Issue.record("not invalid"); return }
        #expect(d.count == 1 && d.first?.location?.line == 5)
    }

    /// `msrs: {IA32_EFER: ...}` without NXE left XD bits in the preset's kernel mappings (a kernel
    /// access raised #PF RSVD, then a triple fault); it now fits the preset as `efer: {nxe: false}` does.
    @Test func eferThroughMSRsFitsThePreset() {
        passes("""
        scenario: efer-msr-no-nxe
        machine:
          mode: x86_64
          msrs: {0xC0000080: 0x501}
        steps:
          - syscall: {via: syscall, nr: getpid}
            expect: {returns: 1}
          - access: {op: read, addr: 0xffff888000001000, cpl: 0}
            expect: {fault: none}
        """)
        let r = runScenarioText("""
        scenario: efer-disagree
        machine:
          mode: x86_64
          efer: {nxe: true}
          msrs: {IA32_EFER: 0x501}
        kernel: none
        steps: [{exec: nop}]
        """)
        guard case let .invalid(d)? = r.first?.outcome else { Issue.record("not invalid"); return }
        #expect(d.first?.message.contains("NXE") == true)
    }

    /// Quoted numbers (`addr: "0x10000008"`) are the same numbers (were "must be a number, not '0x...'").
    @Test func quotedNumbers() {
        passes("""
        scenario: quoted-numbers
        machine: {mode: x86_64}
        processes:
          - name: m
            pages: [{virt: "0x10000000", phys: '0x300000', user: true, count: "2"}]
        steps:
          - access: {op: read, addr: "0x10000008", size: "8"}
            expect: {fault: none, physical: "0x300008"}
          - syscall: {via: syscall, nr: "39"}
            expect: {returns: "1"}
          - syscall: {via: syscall, nr: close, args: [99]}
            expect: {returns: "-9", regs: {rax: "-9"}}
          - exit: "3"
        expect:
          processes: {m: {exit_code: "3"}}
        """)
    }

    /// Quoted flags (`smap: "true"`, `p: "1"`) are the same flags (were "must be true or false, not 'true'").
    @Test func quotedFlags() {
        passes("""
        scenario: qb
        machine: {mode: x86_64, cr4: {smap: "true"}}
        kernel: none
        steps:
          - access: {op: read, addr: 0x400000, cpl: 0}
            expect: {fault: {vector: PF, error_code: {p: "1", u: "false"}}}
        """)
    }

    /// A bare `- timer` said "must be a mapping ...; did you mean 'timer'?": now it says what is missing.
    @Test func bareEventNeedsAValue() {
        let r = runScenarioText("""
        scenario: bare
        kernel: none
        steps:
          - timer
        """)
        guard case let .invalid(d)? = r.first?.outcome else { Issue.record("not invalid"); return }
        #expect(d.first?.message.contains("a bare `timer` step needs a value") == true)
        #expect(d.first?.notes.isEmpty == true)
    }

    /// `set.regs`: negative values (were "must not be negative"); a 32-bit name takes only 32-bit
    /// values, and a 16-bit name (which overwrote the whole register) is refused.
    @Test func setRegsWidths() {
        passes("""
        scenario: set-regs
        machine: {mode: x86_64}
        kernel: none
        steps:
          - set: {regs: {rax: -1, ecx: -2, r8d: 5}}
          - exec: nop
            expect: {regs: {rax: 0xffffffffffffffff, rcx: 0xfffffffe, r8: 5}}
        """)
        let r = runScenarioText("""
        scenario: set-regs-bad
        machine: {mode: x86_64}
        kernel: none
        steps:
          - set: {regs: {ax: 1, eax: 0x100000000}}
        """)
        guard case let .invalid(d)? = r.first?.outcome else { Issue.record("not invalid"); return }
        #expect(d.count == 2)
    }
}
