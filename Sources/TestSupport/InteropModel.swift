import NN

/// The model the PyTorch interop fixture is made from (Tests/DeepClusterTests/Fixtures/
/// make_interop_fixture.py): fmnist-alexnet, k = 10, initialised with seed 7, with non-trivial
/// BatchNorm running statistics so that eval mode exercises them.
public enum InteropModel {
    public static func make() -> Model {
        let model = Model(architecture: .fmnistAlexNet, numClasses: 10, seed: 7)
        for e in model.store.entries where e.name.hasSuffix("running_mean") || e.name.hasSuffix("running_var") {
            let isVar = e.name.hasSuffix("running_var")
            let values = (0..<e.count).map { i -> Float in
                let u = Float((i * 7919 + e.offset * 31) % 1000) / 1000   // in [0, 1)
                return isVar ? 0.5 + u : 0.2 * (u - 0.5)
            }
            try? model.store.load(e.name, values)
        }
        return model
    }

    /// The fixed input batch: 4 images, values from an integer formula the script repeats.
    public static func input() -> [Float] {
        (0..<(4 * 784)).map { i in Float((Double(i * 53 % 256) / 255.0 - 0.2860) / 0.3530) }
    }
}
