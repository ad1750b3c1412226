import Tandem

/// Binary logistic regression trained by full-batch gradient descent. The n x d features are
/// uniform in [-1, 1); the labels come from a known weight vector plus noise. Each epoch
/// computes the logits (a matrix-vector product by broadcasting and a sum), the mean
/// cross-entropy loss (read every epoch, as a training loop prints it) and the gradient.
///
/// Outputs: the first and last `loss`, the training `accuracy`, the sum of the learned
/// weights and the bias.
public enum LogisticRegression {
    public static func run(n: Int = 500_000, d: Int = 8, epochs: Int = 30, learningRate: Double = 0.5) throws -> [String: Double] {
        let features = Tensor<Double>.uniform([n, d], seed: 40, in: -1...1)
        let trueWeights = (Tensor<Double>.arange(0, Double(d)) - Double(d - 1) / 2) * 0.5
        let noise = Tensor<Double>.uniform([n], seed: 41, in: -1...1)
        let labels = Tensor<Double>((features * trueWeights[.newAxis]).sum(axis: 1) + 0.25 + noise .> 0)

        var weights = Tensor<Double>.zeros([d])
        var bias = Tensor<Double>(0)
        var losses: [Double] = []
        for _ in 0..<epochs {
            let logits = (features * weights[.newAxis]).sum(axis: 1) + bias
            // log(1 + e^z) - y z, written so that e^z never overflows.
            let loss = (max(logits, 0.0) + (1.0 + exp(-logits.abs())).log() - labels * logits).mean()
            let error = 1.0 / (1.0 + exp(-logits)) - labels                        // sigmoid - y
            weights = weights - learningRate * (error[.all, .newAxis] * features).mean(axis: 0)
            bias = bias - learningRate * error.mean()
            losses.append(try loss.item())
        }
        let logits = (features * weights[.newAxis]).sum(axis: 1) + bias
        let accuracy = Tensor<Double>(Tensor<Double>(logits .> 0) .== labels).mean()
        return ["loss_first": losses[0], "loss_last": losses[losses.count - 1], "accuracy": try accuracy.item(),
                "weight_sum": try weights.sum().item(), "bias": try bias.item()]
    }
}
