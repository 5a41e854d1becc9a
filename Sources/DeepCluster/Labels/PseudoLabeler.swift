import Datasets
import NN
import Tensor

/// The seam between the run loop and a method: how the method labels the images each epoch and
/// what the training steps make of the labels. The run loop (`DeepClusterRun`) calls, each epoch:
/// `labels` (steps 1–4: features, clustering, labels shared with every rank), `order` (step 5: the
/// samples of the epoch, the same on every rank), `willTrain`, then for each step `stepLabels` and
/// `didStep` (step 6), and for each checkpoint `checkpointArrays` (step 7).
///
/// Two methods implement it: `KMeansLabeler` (DeepCluster: extraction, PCA-whitening, k-means, the
/// uniform-over-clusters sampler) and `PrototypeLabeler` (DeepCluster-v2: memory bank, spherical
/// k-means per head, prototypes). A new method is a third implementation, not a branch in the loop.
public protocol PseudoLabeler: AnyObject {
    /// What the training step minimises on these labels.
    var loss: any LossFunction { get }
    /// The transform of each view a training step sees of an image (`MultiCrop.batch`).
    var views: [Transforms] { get }
    /// Steps 1–4: every image's labels for `epoch`; the clustering's figures go to `record`
    /// (`seconds.extract` and `seconds.pca`: the durations of those phases). Collective.
    func labels(epoch: Int, record: inout EpochRecord) throws -> PseudoLabels
    /// The top layer to start this epoch's training with, when the method makes it from the epoch's
    /// clustering (`--top-layer centroids`); nil: the training state's own rule (drawn at random, or frozen).
    var topLayerStart: (weights: [Float], bias: [Float])? { get }
    /// Step 5: the order in which the epoch visits the images (global batches are cut from it).
    func order(_ labels: PseudoLabels, epoch: Int) -> [Int]
    /// Called before training on `order` from step `step` (non-zero when resuming inside the epoch).
    func willTrain(order: [Int], epoch: Int, from step: Int) throws
    /// The labels of a step's images as `loss` reads them.
    func stepLabels(_ images: ArraySlice<Int>, _ labels: PseudoLabels) -> [Int32]
    /// Called after each training step on this rank's `images`, with the step's embeddings (the
    /// model's embedding layer, when it has one).
    func didStep(_ step: Int, images: ArraySlice<Int>, embedding: Tensor?)
    /// Arrays a checkpoint holds besides the training state, by file name, gathered to rank 0
    /// (empty elsewhere). Collective.
    func checkpointArrays() throws -> [String: (values: [Float], shape: [Int])]
    /// Takes what a checkpoint saved for this method (called on every rank after a resume).
    func resume(from loaded: Checkpoint.Loaded)
}
