#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TandemIR

// The interpreter's accumulators: identities, folds (one value, or a block's values in loops),
// and the partial blocks split reductions exchange, as the generated C keeps them.
extension State {
    func accIsFloat(_ j: Int) -> Bool {
        let r = reductions[j]
        if r.op.isArg { return instrs[r.value].dtype.isFloatingPoint }
        return r.accumulator == .float64
    }

    func identity(_ j: Int) -> Acc {
        let isFloat = accIsFloat(j)
        switch reductions[j].op {
        case .sum: return Acc()
        case .prod: return Acc(f: 1, i: 1)
        case .max, .argmax: return isFloat ? Acc(f: -.infinity) : Acc(i: .min)
        case .min, .argmin: return isFloat ? Acc(f: .infinity) : Acc(i: .max)
        }
    }

    /// Folds `v` (the point at `index` of the reduce axis) into accumulator `j`: `foldRun` over
    /// one value, so the point path and the block path share one statement of each fold.
    mutating func fold(_ j: Int, _ v: Value, index: Int64) {
        var f = v.f, i = v.i
        State.foldRun(reductions[j].op, accIsFloat(j), &accs[j], &f, &i, from: 0, to: 1, by: 1, index: Int(index))
    }

    /// The values at `from, from + by, ... < to` of a block (point k's index `index + k`)
    /// folded into `a`, in that order (NaN wins max and min; an arg reduction keeps the first
    /// index of its extreme, and of a NaN).
    static func foldRun(_ op: ReduceOp, _ isFloat: Bool, _ a: inout Acc, _ vf: UnsafeMutablePointer<Double>,
                        _ vi: UnsafeMutablePointer<Int64>, from: Int, to: Int, by: Int, index: Int) {
        var k = from
        switch op {
        case .sum:
            if isFloat { var x = a.f; while k < to { x += vf[k]; k += by }; a.f = x }
            else { var x = a.i; while k < to { x = x &+ vi[k]; k += by }; a.i = x }
        case .prod:
            if isFloat { var x = a.f; while k < to { x *= vf[k]; k += by }; a.f = x }
            else { var x = a.i; while k < to { x = x &* vi[k]; k += by }; a.i = x }
        case .max:
            if isFloat {
                while k < to { let v = vf[k]; if !a.f.isNaN && (v.isNaN || v > a.f) { a.f = v }; k += by }
            } else {
                while k < to { if vi[k] > a.i { a.i = vi[k] }; k += by }
            }
        case .min:
            if isFloat {
                while k < to { let v = vf[k]; if !a.f.isNaN && (v.isNaN || v < a.f) { a.f = v }; k += by }
            } else {
                while k < to { if vi[k] < a.i { a.i = vi[k] }; k += by }
            }
        case .argmax:
            if isFloat {
                while k < to { let v = vf[k]; if v > a.f || (v.isNaN && !a.f.isNaN) { a.f = v; a.index = Int64(index + k) }; k += by }
            } else {
                while k < to { if vi[k] > a.i { a.i = vi[k]; a.index = Int64(index + k) }; k += by }
            }
        case .argmin:
            if isFloat {
                while k < to { let v = vf[k]; if v < a.f || (v.isNaN && !a.f.isNaN) { a.f = v; a.index = Int64(index + k) }; k += by }
            } else {
                while k < to { if vi[k] < a.i { a.i = vi[k]; a.index = Int64(index + k) }; k += by }
            }
        }
    }

    func readPart(_ p: UnsafeMutableRawPointer, _ slot: Int, _ j: Int) -> (value: Value, index: Int64, acc: Acc) {
        let base = slot * 16
        let isFloat = accIsFloat(j)
        let f = isFloat ? p.load(fromByteOffset: base, as: Double.self) : 0
        let i = isFloat ? 0 : p.load(fromByteOffset: base, as: Int64.self)
        let idx = p.load(fromByteOffset: base + 8, as: Int64.self)
        return (Value(f: f, i: i), idx, Acc(f: f, i: i, index: idx))
    }

    func readAcc(_ p: UnsafeMutableRawPointer, _ slot: Int, _ j: Int) -> Acc {
        readPart(p, slot, j).acc
    }

    func writeAcc(_ a: Acc, _ p: UnsafeMutableRawPointer, _ slot: Int) {
        let j = slot % max(reductions.count, 1)
        if accIsFloat(j) { p.storeBytes(of: a.f, toByteOffset: slot * 16, as: Double.self) } else {
            p.storeBytes(of: a.i, toByteOffset: slot * 16, as: Int64.self)
        }
        p.storeBytes(of: a.index, toByteOffset: slot * 16 + 8, as: Int64.self)
    }
}
