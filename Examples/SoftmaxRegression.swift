import Tandem

/// Multinomial (softmax) logistic regression trained by full-batch gradient descent. The n x d
/// features are standard normal (`Tensor.normal`); the labels are the argmax of the features
/// times a hidden d x k weight matrix, so the classes are separable and accuracy climbs toward
/// 1. Each epoch computes the logits (`X @ W`, a product with few columns), the softmax with
/// its row maximum subtracted (reductions over rows of k), the mean cross-entropy loss (read
/// every epoch, as a training loop prints it) and the gradient (`X.T @ (P - Y)`). A program
/// ported from NumPy to check the default path on programs nobody tuned for.
///
/// Outputs: the first and last `loss`, the training `accuracy`, the learned `w00` and the sum
/// of the absolute learned weights.
public enum SoftmaxRegression {
    public static func run(n: Int = 20_000, d: Int = 10, k: Int = 5, epochs: Int = 100, learningRate: Double = 0.5) throws -> [String: Double] {
        let features = Tensor<Double>.normal([n, d], seed: 7)
        let hidden = Tensor<Double>.normal([d, k], seed: 8)
        let labels = features.matmul(hidden).argmax(axis: 1)
        // One-hot targets: class c of row i is 1 where labels[i] == c.
        let onehot = Tensor<Double>(Tensor<Int64>.arange(0, Int64(k))[.newAxis] .== labels[.all, .newAxis])

        var weights = Tensor<Double>.zeros([d, k])
        var losses: [Double] = []
        for _ in 0..<epochs {
            let logits = features.matmul(weights)
            let shifted = logits - logits.max(axis: 1, keepDims: true)
            let e = shifted.exp()
            let probabilities = e / e.sum(axis: 1, keepDims: true)
            let loss = -(onehot * (probabilities + 1e-12).log()).sum(axis: 1).mean()
            let gradient = features.transposed.matmul(probabilities - onehot) / Double(n)
            weights = weights - learningRate * gradient
            losses.append(try loss.item())
        }
        let accuracy = (features.matmul(weights).argmax(axis: 1) .== labels).mean()
        return ["loss_first": losses[0], "loss_last": losses[losses.count - 1], "accuracy": try accuracy.item(),
                "w00": try weights[0, 0].item(), "weight_abs_sum": try weights.abs().sum().item()]
    }
}
