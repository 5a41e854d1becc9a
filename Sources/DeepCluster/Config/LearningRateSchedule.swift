import Foundation

/// The learning rate at a point of training: constant (the reference), or a linear warm-up from 0 over
/// `warmupEpochs` followed by a cosine decay to `finalRate` at the end of the last epoch (SwAV's and
/// DeepCluster-v2's schedule). A function of (epoch, step) only, so a resumed run follows it exactly.
public struct LearningRateSchedule: Sendable {
    public enum Kind: String, RecipeChoice { case constant, cosine }
    public var kind: Kind
    public var base: Float
    public var warmupEpochs: Double
    public var finalRate: Float
    public var epochs: Int

    public init(kind: Kind, base: Float, warmupEpochs: Double, finalRate: Float, epochs: Int) {
        self.kind = kind; self.base = base; self.warmupEpochs = warmupEpochs; self.finalRate = finalRate; self.epochs = epochs
    }

    public func rate(epoch: Int, step: Int, stepsPerEpoch: Int) -> Float {
        guard kind == .cosine else { return base }
        let t = Double(epoch) + Double(step) / Double(max(stepsPerEpoch, 1))
        if t < warmupEpochs { return base * Float(t / warmupEpochs) }
        let span = max(Double(epochs) - warmupEpochs, 1e-9)
        let progress = min(max((t - warmupEpochs) / span, 0), 1)
        return finalRate + (base - finalRate) * Float(0.5 * (1 + cos(Double.pi * progress)))
    }
}
