// WideDescriptor: the 16-byte system descriptors of IA-32e mode (LDT, 64-bit TSS, 64-bit call gate; SDM
// Vol. 3A §7.2.3 Figure 7-4, §5.8.3.1 Figure 5-9). Their upper 8 bytes hold bits 63:32 of the base (or
// offset) and, in bits 12:8 of the fourth dword, a type field that must be 0: the processor reads the upper
// half as if it were a descriptor and refuses one whose type is not 0 with #GP(selector) (FAR-11 for a call
// gate; LTR and LLDT likewise; Bochs fetch_raw_descriptor_64, "extended attributes DWORD4 TYPE != 0").

/// The upper half of a 16-byte system descriptor.
public enum WideDescriptor {
    /// The type field of the upper half (bits 12:8 of its high dword): 0 in a valid 16-byte descriptor.
    public static func upperType(_ high: UInt64) -> UInt8 { UInt8((high >> 40) & 0x1F) }

    /// The base (or offset) bits 63:32 the upper half holds.
    public static func upperBase(_ high: UInt64) -> UInt64 { (high & 0xFFFF_FFFF) << 32 }
}
