import TandemIR

// Privatisation of temporaries: buffers each iteration of the outermost loop writes in full
// before it reads them, so that iterations may run at once, each worker on its own copy.
extension LoopProgram {
    /// Bytes of temporaries a worker keeps copies of on its stack, at most (a thread's stack
    /// may be 512 KB on some systems; the copies are the program's whole frame).
    public static let privateByteLimit = 64 * 1024

    /// The written buffers whose every element each iteration of the outermost loop writes
    /// before it reads any (`fullyWrittenFirst`), with subscripts that do not depend on the
    /// outer loop and no read at a computed position: PolyBench doitgen's `sum[p]`, zeroed and
    /// accumulated for each `(r, q)` and then copied out. Such a buffer carries a dependence
    /// between every pair of outer iterations (each overwrites what the last one left), yet no
    /// value flows from one iteration to the next: with a copy per worker, and the copy of the
    /// worker that runs the last iteration written back, the iterations may run at once and
    /// leave what the loop in order leaves.
    public func privatizable() -> Set<Int> {
        guard case .loop(let k0, _, _, _, let top)? = body.first else { return [] }
        var uses: [Use] = []
        var gathered: Set<Int> = []
        collect(body, [], &uses, &gathered)
        var result: Set<Int> = []
        var bytes = 0
        for b in Set(uses.filter(\.write).map { accesses[$0.access].buffer }).sorted() where !gathered.contains(b) {
            let size = shapes[b].reduce(1, *) * buffers[b].dtype.byteSize
            guard bytes + size <= LoopProgram.privateByteLimit else { continue }
            let mine = uses.filter { accesses[$0.access].buffer == b }
            guard mine.allSatisfy({ use in accesses[use.access].indices.allSatisfy { $0.coef(k0) == 0 } }) else { continue }
            if fullyWrittenFirst(b, in: top) {
                result.insert(b)
                bytes += size
            }
        }
        return result
    }

    /// Whether one run of `items` writes every element of buffer `b` before it reads any: the
    /// first item touching `b` is, down a chain of loops each entered at its first item that
    /// touches `b`, a store whose subscripts are the variables of loops of that chain, one a
    /// different loop an axis, each running over its axis's whole extent (constant bounds);
    /// every other access of `b` inside the outermost of those loops touches the element that
    /// store just wrote (the same subscripts); after it, anything may read `b`.
    func fullyWrittenFirst(_ b: Int, in items: [Item]) -> Bool {
        var chain: [(variable: Int, count: Int?, item: Item)] = []
        var level = items
        while true {
            guard let first = level.first(where: { touches($0, b) }) else { return false }
            switch first {
            case .step:
                return false                                     // read before written
            case .loop(let k, let lower, let upper, let step, let inner):
                let count: Int? = lower.isConstant && upper.isConstant && step == 1
                    ? LoopProgram.count(lower: lower.constant, upper: upper.constant, step: 1) : nil
                chain.append((k, count, first))
                level = inner
            case .store(let a, _):
                let access = accesses[a]
                var used: Set<Int> = []
                var outermost: Int? = nil
                for (axis, index) in access.indices.enumerated() {
                    if index.isConstant {
                        guard index.constant == 0, shapes[b][axis] == 1 else { return false }
                        continue
                    }
                    let terms = index.coefs.enumerated().filter { $0.element != 0 }
                    guard index.constant == 0, terms.count == 1, terms[0].element == 1,
                          let position = chain.firstIndex(where: { $0.variable == terms[0].offset }),
                          chain[position].count == shapes[b][axis], used.insert(terms[0].offset).inserted else { return false }
                    outermost = min(outermost ?? position, position)
                }
                // A buffer of one element written outside any loop, or the subtree of the
                // outermost covering loop: every access of `b` there is at the store's element.
                let scope: [Item] = outermost.map { [chain[$0].item] } ?? [first]
                return accessesOf(b, in: scope).allSatisfy { accesses[$0].indices == access.indices }
            }
        }
    }

    /// Whether `item` reads or writes buffer `b` (inside its loops too).
    func touches(_ item: Item, _ b: Int) -> Bool { !accessesOf(b, in: [item]).isEmpty }

    /// The accesses of buffer `b` that `items` load, gather or store, inside their loops too.
    func accessesOf(_ b: Int, in items: [Item]) -> [Int] {
        var found: [Int] = []
        for item in items {
            switch item {
            case .step(let s):
                switch steps[s].value {
                case .load(let a), .gather(let a, _, _): if accesses[a].buffer == b { found.append(a) }
                default: break
                }
            case .store(let a, _): if accesses[a].buffer == b { found.append(a) }
            case .loop(_, _, _, _, let inner): found += accessesOf(b, in: inner)
            }
        }
        return found
    }
}
