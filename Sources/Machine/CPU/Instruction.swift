// Instruction: the instructions a scenario's `exec` step can run, already decoded (selectors and
// addresses resolved). Their lengths give the return addresses that traps and calls save.

public enum Instruction: Sendable, Equatable {
    /// INT n (CD ib): a software interrupt.
    case int(UInt8)
    /// INT3 (CC): the breakpoint trap.
    case int3
    /// INTO (CE): the overflow trap when OF=1 (invalid in 64-bit mode).
    case into
    /// INT1 / ICEBP (F1).
    case int1
    case syscall
    /// SYSRET; `to64` true = the REX.W form (`sysretq`), false = without REX.W (`sysretl`), nil = the
    /// mode's natural form (`sysret`: REX.W in 64-bit mode, where Linux uses it; elsewhere there is no REX).
    case sysret(to64: Bool?)
    case sysenter
    /// SYSEXIT; `to64` = the REX.W form (`sysexitq`).
    case sysexit(to64: Bool)
    /// IRET with an explicit width (2, 4, 8) or the mode's default.
    case iret(width: Int?)
    case callFar(selector: UInt16, offset: UInt64)
    case jmpFar(selector: UInt16, offset: UInt64)
    /// RETF [imm16]; `width` 2, 4 or 8 for `retfw`/`retfd`/`retfq`, nil for the mode's default.
    case retf(popBytes: UInt16, width: Int? = nil)
    case movToSegment(SegmentRegisterName, UInt16)
    /// MOV Sreg, r16/r32/r64 (8E /r): loads the selector in the register's low 16 bits.
    case movRegisterToSegment(SegmentRegisterName, GPR)
    /// MOV r, Sreg (8C /r): the selector, into the low 16 bits (`width` 2) or zero-extended (4, 8).
    case movSegmentToRegister(GPR, SegmentRegisterName, width: Int)
    /// MOV CS, r/m: always #UD (SEG-7).
    case movToCS
    /// MOV r, imm; `width` 2 (`mov ax, 5`) writes only the low 16 bits, 4 and 8 the whole register
    /// (a 32-bit write zero-extends in 64-bit mode).
    case movImmediate(GPR, UInt64, width: Int = 8)
    case load(GPR, address: UInt64, size: Int)
    case store(address: UInt64, GPR, size: Int)
    case cli, sti, hlt, lgdt, lidt
    case movToCR(Int, GPR)
    case movFromCR(GPR, Int)
    case invlpg(UInt64)
    case rdmsr, wrmsr
    /// Bare IN / OUT (the version-1 form): no port, only the CPL <= IOPL check (PRIV-1).
    case inPort, outPort
    /// IN AL/AX/EAX, imm8 | DX (E4, E5, EC, ED): `size` 1, 2 or 4 bytes from the port (PRIV-4).
    case portIn(IOPortOperand, size: Int)
    /// OUT imm8 | DX, AL/AX/EAX (E6, E7, EE, EF).
    case portOut(IOPortOperand, size: Int)
    case nop
    /// UD2 (0F 0B): raises #UD in every mode (SDM Vol. 2B, UD2).
    case ud2

    /// Encoded length in bytes (for saved return addresses). `codeSize16`: the code segment is 16-bit
    /// (CS.D = 0 outside 64-bit mode), where a direct far CALL/JMP is the ptr16:16 form (9A/EA iw iw,
    /// 5 bytes; SDM Vol. 2A CALL, JMP) that the model executes there (16-bit offset, word pushes), and
    /// the 16-bit forms of IRET, MOV r, imm and MOV r, Sreg need no 66 prefix while the 32-bit ones do;
    /// the other forms (memory operands, whose encodings vary) keep their 32-bit-code lengths.
    public func length(in64BitMode: Bool, codeSize16: Bool = false) -> UInt64 {
        switch self {
        case .int: 2
        case .int3, .into, .int1, .cli, .sti, .hlt, .nop, .inPort, .outPort: 1
        case .syscall, .sysenter, .rdmsr, .wrmsr, .ud2: 2
        case let .sysret(to64): (to64 ?? in64BitMode) ? 3 : 2
        case let .sysexit(to64): to64 ? 3 : 2
        // IRETD/IRETQ/IRETW need a 66 or REX.W prefix unless they are the code's own operand size (IRET in
        // 16-bit code is IRETW, CF; in 32-bit and 64-bit code IRETD, CF).
        case let .iret(width): width == 8 ? 2 : (width == nil || width == (codeSize16 && !in64BitMode ? 2 : 4) ? 1 : 2)
        case .callFar, .jmpFar: !in64BitMode && codeSize16 ? 5 : 7
        case let .retf(n, width): (n == 0 ? 1 : 3) + (width == 8 || width == 2 ? 1 : 0)
        case .movToSegment, .movToCS: 2
        case let .movRegisterToSegment(_, register): register.needsREX ? 3 : 2
        // In 16-bit code the 16-bit forms need no 66 prefix and the 32-bit ones do (MOV r16, Sreg 8C /r;
        // MOV r32, Sreg 66 8C /r; MOV r16, imm16 B8+r iw; MOV r32, imm32 66 B8+r id).
        case let .movSegmentToRegister(register, _, width):
            !in64BitMode && codeSize16 ? (width == 2 ? 2 : 3)
                : (width == 2 ? 3 : (width == 8 ? 3 : 2)) + (width != 8 && register.needsREX ? 1 : 0)
        // R8-R15 (64-bit mode only) need a REX prefix (REX.B); the 64-bit form has REX.W already.
        case let .movImmediate(register, _, width):
            !in64BitMode && codeSize16 ? (width == 2 ? 3 : 6)
                : (width == 2 ? 4 : (in64BitMode && width == 8 ? 10 : 5)) + (width != 8 && register.needsREX ? 1 : 0)
        case .load, .store: in64BitMode ? 8 : 6
        case .lgdt, .lidt: 7
        // 0F 22 /r and 0F 20 /r; CR8 is reached through REX.R and R8-R15 through REX.B (SDM Vol. 2B MOV
        // to/from control registers, opcode table: "REX.R + 0F 22 /0 MOV CR8, r64"), one REX byte for both.
        case let .movToCR(cr, register), let .movFromCR(register, cr): cr >= 8 || register.needsREX ? 4 : 3
        // 0F 01 /7 with a disp32 operand: ModR/M 3D + disp32 in 32-bit code; in 64-bit mode that ModR/M is
        // RIP-relative, so an absolute address takes a SIB byte (0F 01 3C 25 disp32), as NASM and GAS encode it.
        case .invlpg: in64BitMode ? 8 : 7
        // E4/E6 ib and EC/EE (byte); E5/E7 ib and ED/EF take the code's operand size, the other one a 66 prefix.
        case let .portIn(port, size), let .portOut(port, size):
            (port == .dx ? 1 : 2) + (size != 1 && (size == 2) != (codeSize16 && !in64BitMode) ? 1 : 0)
        }
    }

    /// Whether the instruction is CPL-0 only (#GP(0) otherwise).
    public var isPrivileged: Bool {
        switch self {
        case .hlt, .lgdt, .lidt, .movToCR, .movFromCR, .invlpg, .rdmsr, .wrmsr: true
        default: false
        }
    }
}
