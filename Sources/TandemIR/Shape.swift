/// Shape arithmetic shared by every layer: row-major strides, element counts, broadcasting.
public enum Shape {
    /// Number of elements of a shape (1 for a scalar).
    public static func count(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    /// Moves a row-major multi-index to the next position of `extents` (the last axis fastest),
    /// wrapping to all zeros after the last position.
    ///
    ///     var index = [0, 2]; Shape.step(&index, through: [2, 3])   // [1, 0]
    @inline(__always)
    public static func step(_ index: inout [Int], through extents: [Int]) {
        var d = extents.count - 1
        while d >= 0 {
            index[d] += 1
            if index[d] < extents[d] { return }
            index[d] = 0
            d -= 1
        }
    }

    /// Row-major (C order) strides in elements.
    public static func rowMajorStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int].filled(0, count: shape.count)
        var s = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = s
            s *= shape[axis]
        }
        return strides
    }

    /// NumPy's spelling of a shape: `(3, 4)`, `(5,)`, `()`.
    public static func describe(_ shape: [Int]) -> String {
        shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    }

    /// The broadcast shape of two shapes under NumPy's rules, or nil when they are incompatible.
    public static func broadcast(_ a: [Int], _ b: [Int]) -> [Int]? {
        // The common cases, without building an array: equal shapes, and a scalar operand.
        if a == b || b.isEmpty { return a }
        if a.isEmpty { return b }
        let rank = max(a.count, b.count)
        var out = [Int].filled(1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else { return nil }
        }
        return out
    }
}

extension Array where Element == Int {
    /// `count` copies of `value`, like `[Int](repeating:count:)` but allocated through the append
    /// path, which the compiler specialises for `Int`: the stdlib initialiser calls the
    /// unspecialised allocator, which looks up the storage class's generic metadata at every call
    /// (about 300 instructions on Linux; a stencil step makes dozens of index maps).
    ///
    ///     let strides = [Int].filled(0, count: 3)     // [0, 0, 0]
    @inlinable
    public static func filled(_ value: Int, count: Int) -> [Int] {
        var a: [Int] = []
        a.reserveCapacity(count)
        for _ in 0..<count { a.append(value) }
        return a
    }
}
