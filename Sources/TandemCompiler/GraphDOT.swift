import TandemIR

/// Graphviz DOT of a pending lazy graph and of the plan a sync would run: `GraphDOT.render`.
///
/// Every unrealised node reachable from the roots is a vertex labelled with its operation, shape
/// and type; materialised buffers are grey boxes; each kernel of the plan is a cluster around the
/// nodes it computes (its fusion group), so a reader sees at once what was fused and what crosses
/// a kernel boundary through memory. Vertex names are numbered in traversal order, so the text is
/// stable for golden tests.
public enum GraphDOT {
    public static func render(roots: [Node], plan: Plan?) -> String {
        var order: [Node] = []
        var number: [ObjectIdentifier: Int] = [:]
        var stack = roots.reversed().map { $0 }
        while let node = stack.popLast() {
            let id = ObjectIdentifier(node)
            if number[id] != nil { continue }
            number[id] = order.count
            order.append(node)
            if node.storage == nil { for input in node.op.inputs.reversed() { stack.append(input) } }
        }
        var clusterOf: [ObjectIdentifier: Int] = [:]
        if let plan {
            for (k, kernel) in plan.kernels.enumerated() {
                for n in order where kernel.memberIDs.contains(n.id) && clusterOf[ObjectIdentifier(n)] == nil {
                    clusterOf[ObjectIdentifier(n)] = k
                }
            }
        }
        var out = "digraph tandem {\n  rankdir=BT;\n  node [fontname=\"Helvetica\", fontsize=10];\n"
        func vertex(_ n: Node) -> String {
            let name = "n\(number[ObjectIdentifier(n)]!)"
            let shape = Shape.describe(n.shape)
            let isRoot = roots.contains { $0 === n }
            if n.storage != nil {
                return "\(name) [shape=box, style=filled, fillcolor=\"#dddddd\", label=\"buffer \(shape) \(n.dtype)\"];"
            }
            return "\(name) [shape=\(isRoot ? "doubleoctagon" : "ellipse"), label=\"\(opName(n.op)) \(shape) \(n.dtype)\"];"
        }
        if let plan {
            for (k, kernel) in plan.kernels.enumerated() {
                let members = order.filter { clusterOf[ObjectIdentifier($0)] == k }
                out += "  subgraph cluster_k\(k) {\n    label=\"kernel \(k): \(kernel.label.replacingQuotes)\";\n    style=rounded;\n"
                for n in members { out += "    " + vertex(n) + "\n" }
                out += "  }\n"
            }
        }
        for n in order where clusterOf[ObjectIdentifier(n)] == nil { out += "  " + vertex(n) + "\n" }
        for n in order where n.storage == nil {
            for input in n.op.inputs {
                out += "  n\(number[ObjectIdentifier(input)]!) -> n\(number[ObjectIdentifier(n)]!);\n"
            }
        }
        return out + "}\n"
    }

    static func opName(_ op: Node.Op) -> String {
        switch op {
        case .storage: "buffer"
        case .fill(let l): "fill \(l)"
        case .uniform(let seed, _, _): "uniform seed \(seed)"
        case .iota: "iota"
        case .unary(let u, _): u.rawValue
        case .binary(let b, _, _): b.rawValue
        case .select: "where"
        case .cast: "cast"
        case .view: "view"
        case .reshape: "reshape"
        case .reduce(let r, _, let axes): "\(r.rawValue) axes \(axes)"
        case .update: "update"
        case .gather(_, _, let axis): "gather axis \(axis)"
        }
    }
}

extension String {
    var replacingQuotes: String { String(map { $0 == "\"" ? "'" : $0 }) }
}
