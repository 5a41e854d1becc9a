import ArgumentParser
import Collective
import DeepCluster
import Datasets
import NN

/// The checkpoint and the images that `extract`, `assign` and `gallery` read, with how to load them.
struct CheckpointImageOptions: ParsableArguments {
    @Option(help: "A checkpoint directory, or a --checkpoint-dir (its newest complete checkpoint).") var checkpoint: String
    @Option(help: "Images (default: the checkpoint's training data).") var data: String?
    @Option(help: "Data format: \(DatasetLoader.formats.joined(separator: ", ")) (default: auto, or the checkpoint's with its data).") var format: String?
    @Option(help: "Resize the shorter side to N before the centre crop (default: as train; 0: never).") var resize: Int?
    @Option(help: "Use the first N images only.") var limit: Int?
    @OptionGroup var dataCheck: DataCheckOptions

    /// The checkpoint's recipe applied to these images (--data, else the training data; --resize).
    func recipe(_ loaded: Checkpoint.Loaded) -> Recipe {
        var r = loaded.state.recipe.reading(data ?? loaded.state.recipe.data, resize: resize)
        if data != nil { r.format = format ?? "auto"; r.labels = nil } else if let f = format { r.format = f }
        return r
    }

    /// The images, in the model's channels, agreed on by the ranks and checked (`DataCheckOptions`).
    func images(for model: Model, _ loaded: Checkpoint.Loaded, labels: String? = nil, communicator: Communicator) throws
        -> (images: any ImageSource, transforms: Transforms, skipped: Int) {
        let r = recipe(loaded)
        var set = try DatasetLoader.load(data: r.data, labels: labels ?? r.labels, format: r.format, channels: model.architecture.inputChannels,
                                         minimumDecodeSide: r.minimumDecodeSide(model.architecture))
        if let l = limit { set = set.limited(to: l) }
        let skipped: Int
        (set, skipped) = try dataCheck.prepare(set, communicator: communicator)
        return (set, try DatasetLoader.transforms(for: set, recipe: r), skipped)
    }
}
