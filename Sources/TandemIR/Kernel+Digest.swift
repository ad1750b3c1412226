// A kernel's structure as bytes, for keys that persist across processes (the kernel history).

extension Kernel {
    /// Every field of the structure, in order, as bytes: what `structureDescription` says, without
    /// making the text (a sequence kernel's description ran to tens of kilobytes, and building
    /// it was a seventh of planning a new graph of small kernels). Operators are written by
    /// name and types by their raw values, so the bytes do not change when cases are added.
    public var structureBytes: [UInt8] {
        var out = StructureWriter()
        out.append(structure: self)
        return out.bytes
    }
}

private struct StructureWriter {
    var bytes: [UInt8] = Array("tandem-kernel-1".utf8)

    init() { bytes.reserveCapacity(1024) }

    mutating func int(_ v: Int) {
        var x = UInt64(bitPattern: Int64(v))
        for _ in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: x)); x >>= 8 }
    }

    mutating func tag(_ t: UInt8) { bytes.append(t) }

    mutating func name(_ s: String) {
        int(s.utf8.count)
        bytes.append(contentsOf: s.utf8)
    }

    mutating func append(structure k: Kernel) {
        int(k.rank); int(k.parallelAxes)
        int(k.buffers.count)
        for b in k.buffers { tag(b.dtype.rawValue); tag(b.isRead ? 1 : 0); tag(b.isWritten ? 1 : 0) }
        int(k.accesses.count)
        for a in k.accesses {
            int(a.offset); int(a.strides.count)
            for s in a.strides {
                switch s {
                case .zero: tag(0)
                case .one: tag(1)
                case .param(let p): tag(2); int(p)
                case .fixed(let v): tag(3); int(v)
                }
            }
        }
        int(k.instrs.count)
        for i in k.instrs {
            switch i.op {
            case .load(let b, let a): tag(0); int(b); int(a)
            case .gather(let b, let a, let x, let s, let e): tag(1); int(b); int(a); int(x); int(s); int(e)
            case .uniform(let a, let seed, let lo, let hi): tag(2); int(a); int(seed); int(lo); int(hi)
            case .iota(let a, let start, let step): tag(3); int(a); int(start); int(step)
            case .param(let p): tag(4); int(p)
            case .literal(let l):
                tag(5)
                switch l {
                case .float(let v): tag(0); int(Int(bitPattern: UInt(v.bitPattern)))
                case .int(let v): tag(1); int(Int(v))
                case .bool(let v): tag(2); tag(v ? 1 : 0)
                }
            case .unary(let u, let a): tag(6); name(u.rawValue); int(a)
            case .binary(let b, let x, let y): tag(7); name(b.rawValue); int(x); int(y)
            case .select(let c, let a, let b): tag(8); int(c); int(a); int(b)
            case .cast(let a): tag(9); int(a)
            case .accumulated(let r): tag(10); int(r)
            }
            tag(i.dtype.rawValue); tag(i.epilogue ? 1 : 0)
        }
        int(k.reductions.count)
        for r in k.reductions { name(r.op.rawValue); int(r.value); tag(r.accumulator.rawValue) }
        int(k.stores.count)
        for s in k.stores { int(s.buffer); int(s.access); int(s.value); tag(s.epilogue ? 1 : 0) }
        int(k.intParams); int(k.floatParams)
        if let e = k.innerExtent { tag(1); int(e) } else { tag(0) }
        if let l = k.literalInts { tag(1); int(l.count); for v in l { int(Int(v)) } } else { tag(0) }
        switch k.entries {
        case .all: tag(0)
        case .rows: tag(1)
        case .split: tag(2)
        }
        int(k.stages.count)
        for s in k.stages {
            append(structure: s.kernel)
            int(s.buffers.count); for b in s.buffers { int(b) }
            int(s.intOffset); int(s.floatOffset)
        }
        // Written only for a variant, after everything else: the rules' kernels keep the keys
        // their history and factors were saved under.
        if let v = k.variant {
            tag(0x56); int(v.laneBlock ?? 0); int(v.interleave ?? 0)
            if v.floatSums { tag(0x46) }
        }
    }
}
