import Tandem

/// k-means clustering (Lloyd's algorithm) of n points in d dimensions drawn around k random
/// centres, starting from k random centroids. Each iteration assigns every point to its nearest
/// centroid (distances by broadcasting, `argmin`), moves each centroid to the mean of its points
/// (one-hot masks summed over the points; an empty cluster keeps its centroid), and reads the
/// inertia and how many points changed cluster; it stops when none did.
///
/// Outputs: `iterations`, the first and last `inertia` (sum of squared distances to the nearest
/// centroid), the sum of the centroids' absolute coordinates and the size of the largest cluster.
public enum KMeans {
    public static func run(n: Int = 50_000, d: Int = 4, k: Int = 8, maxIterations: Int = 30) throws -> [String: Double] {
        // Point i lies around centre i % k: rows come in groups of k, then are flattened.
        let centres = Tensor<Double>.uniform([k, d], seed: 30, in: -10...10)
        let groups = (n + k - 1) / k
        let noise = Tensor<Double>.uniform([groups, k, d], seed: 31, in: -3...3)
        let points = (centres[.newAxis] + noise).reshaped([groups * k, d])[0..<n, .all]
        var centroids = Tensor<Double>.uniform([k, d], seed: 32, in: -10...10)
        let clusterIDs = Tensor<Int64>.arange(0, Int64(k))

        var labels = Tensor<Int64>.full([n], -1)
        var inertias: [Double] = []
        var counts = Tensor<Double>.zeros([k])
        for _ in 0..<maxIterations {
            let distances = (points[.all, .newAxis, .all] - centroids[.newAxis]).squared().sum(axis: 2)   // n x k
            let nearest = distances.argmin(axis: 1)
            let inertia = distances.min(axis: 1).sum()
            let changed = Tensor<Int64>(nearest .!= labels).sum()
            let members = Tensor<Double>(nearest[.all, .newAxis] .== clusterIDs[.newAxis])               // n x k
            counts = members.sum(axis: 0)
            let sums = (members[.all, .all, .newAxis] * points[.all, .newAxis, .all]).sum(axis: 0)      // k x d
            centroids = `where`(counts[.all, .newAxis] .> 0, sums / max(counts, 1.0)[.all, .newAxis], centroids)
            labels = nearest
            inertias.append(try inertia.item())
            if try changed.item() == 0 { break }
        }
        return ["iterations": Double(inertias.count), "inertia_first": inertias[0], "inertia_last": inertias[inertias.count - 1],
                "centroid_abs_sum": try centroids.abs().sum().item(), "largest_cluster": try counts.max().item()]
    }
}
