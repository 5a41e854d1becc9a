import Collective
import Datasets
import NN

/// What a run is built from: the images (all of them, or the first --limit, less the unreadable ones
/// with --skip-unreadable), their transforms, and the model of the recipe's architecture and head,
/// with the checks that need the data (every rank sees the same images and can read them, enough
/// images for k clusters, a PCA no wider than the features).
struct RunSetup {
    let images: any ImageSource
    let transforms: Transforms
    let model: Model
    /// Images left out as unreadable (--skip-unreadable).
    let skipped: Int

    /// `listed`: the images as already listed (by `--preset recommended`, which reads the data's size),
    /// so that a folder of a million files is listed once.
    init(recipe: Recipe, dataCheck: DataScan.Depth, communicator: Communicator, listed: (any ImageSource)? = nil,
         log: (String) -> Void) throws {
        let arch = try recipe.architecture()
        let side = recipe.minimumDecodeSide(arch)
        var set = try listed?.reading(channels: arch.inputChannels, minimumDecodeSide: side)
            ?? DatasetLoader.load(data: recipe.data, labels: recipe.labels, format: recipe.format, channels: arch.inputChannels,
                                  minimumDecodeSide: side)
        if let l = recipe.limit { set = set.limited(to: l) }
        (set, skipped) = try DataScan.prepare(set, depth: dataCheck, skipUnreadable: recipe.skipUnreadable, communicator: communicator, log: log)
        images = set
        transforms = try DatasetLoader.transforms(for: set, recipe: recipe)
        let k = recipe.k(arch)
        guard set.count >= k else {
            throw TrainingError.invalidConfiguration("\(set.count) images cannot form \(k) clusters; lower --clusters or raise --limit")
        }
        // A checkpoint gathers DeepCluster-v2's memory bank with MPI_Gatherv, whose displacements are
        // Int32: found here, not at the first checkpoint after a whole epoch.
        if recipe.isV2 && set.count * recipe.embeddingDimension > Int(Int32.max) {
            throw TrainingError.invalidConfiguration("the memory bank of \(set.count) images × \(recipe.embeddingDimension) dimensions (\(set.count * recipe.embeddingDimension) values a view) is more than a checkpoint can gather (MPI_Gatherv addresses 2,147,483,647); lower --embedding-dim or use fewer images")
        }
        model = Model(architecture: arch, head: recipe.head(arch), seed: recipe.seed)
        guard recipe.isV2 || recipe.pcaDim(arch) <= model.featureDimension else {
            throw TrainingError.invalidConfiguration("--pca-dim \(recipe.pcaDim(arch)) exceeds the feature dimension \(model.featureDimension)")
        }
    }
}
