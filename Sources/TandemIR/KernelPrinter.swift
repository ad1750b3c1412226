/// The readable text form of kernel IR, with concrete parameter values when a launch is given.
///
///     kernel rank=2 parallel=1 extents=[100, 100]
///       b0: f64 in
///       %0 = load b0[0 + 1*i1] : f64
///       reduce.sum %3 -> acc0 (f64)
///       epilogue %4 = acc0 : f64
///       store b1[0 + 1*i0] = %4   (epilogue)
public enum KernelPrinter {
    public static func print(_ k: Kernel, launch: Launch? = nil) -> String {
        func int(_ p: Int) -> String {
            if let l = launch { return String(l.ints[p]) }
            return "I\(p)"
        }
        func flt(_ p: Int) -> String {
            if let l = launch { return HexFloat.describe(l.floats[p]) }
            return "F\(p)"
        }
        func access(_ a: Access) -> String {
            var terms = [int(a.offset)]
            for (k, s) in a.strides.enumerated() {
                switch s {
                case .zero: continue
                case .one: terms.append("i\(k)")
                case .param(let p): terms.append("\(int(p))*i\(k)")
                case .fixed(let s): terms.append("\(s)*i\(k)")
                }
            }
            return terms.joined(separator: " + ")
        }
        var out = "kernel rank=\(k.rank) parallel=\(k.parallelAxes) extents=[\((0..<k.rank).map(int).joined(separator: ", "))]\n"
        for (i, b) in k.buffers.enumerated() {
            let role = b.isRead && b.isWritten ? "inout" : (b.isWritten ? "out" : "in")
            out += "  b\(i): \(b.dtype.shortName) \(role)\n"
        }
        for (i, instr) in k.instrs.enumerated() {
            let rhs: String
            switch instr.op {
            case .load(let b, let a): rhs = "load b\(b)[\(access(k.accesses[a]))]"
            case .gather(let b, let a, let i, let stride, let extent):
                rhs = "gather b\(b)[\(access(k.accesses[a])) + \(int(stride))*clamp(%\(i), \(int(extent)))]"
            case .uniform(let a, let seed, let lo, let hi):
                rhs = "uniform(seed: \(int(seed)), \(flt(lo))..<\(flt(hi)))[\(access(k.accesses[a]))]"
            case .iota(let a, let start, let step):
                let isInt = !instr.dtype.isFloatingPoint
                rhs = "iota(\(isInt ? int(start) : flt(start)), step: \(isInt ? int(step) : flt(step)))[\(access(k.accesses[a]))]"
            case .param(let p): rhs = instr.dtype.isFloatingPoint ? "param F\(p) = \(flt(p))" : "param I\(p) = \(int(p))"
            case .literal(let l): rhs = "literal \(l)"
            case .unary(let op, let a): rhs = "\(op.rawValue) %\(a)"
            case .binary(let op, let a, let b): rhs = "\(op.rawValue) %\(a), %\(b)"
            case .select(let c, let a, let b): rhs = "select %\(c), %\(a), %\(b)"
            case .cast(let a): rhs = "cast %\(a)"
            case .accumulated(let j): rhs = "acc\(j)"
            }
            out += "  \(instr.epilogue ? "epilogue " : "")%\(i) = \(rhs) : \(instr.dtype.shortName)\n"
        }
        for (j, r) in k.reductions.enumerated() {
            out += "  reduce.\(r.op.rawValue) %\(r.value) -> acc\(j) (\(r.accumulator.shortName))\n"
        }
        for s in k.stores {
            out += "  store b\(s.buffer)[\(access(k.accesses[s.access]))] = %\(s.value)\(s.epilogue ? "   (epilogue)" : "")\n"
        }
        return out
    }
}
