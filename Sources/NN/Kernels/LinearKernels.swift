/// The kernel policy of one Linear layer: OpenBLAS's sgemm in fp32, or oneDNN's bf16 matmul under
/// `--precision bf16` (inputs, weights and output gradients rounded to bf16, fp32 accumulation, fp32 master
/// weights and gradients: PyTorch's autocast on CPU). Inference on frozen weights (`Model.withFrozenWeights`:
/// extraction) runs on oneDNN in either precision, its weights converted once into oneDNN's blocked layout
/// for every batch (`runFrozen`). A product oneDNN refuses falls back to sgemm with one note.
final class LinearKernels {
    let name: String
    /// This layer's backend and precision when they are not the process-wide choice (tests run both).
    var backend: KernelBackend?
    var precision: Precision?
    private var products: [OneDNNMatmul.Shape: OneDNNMatmul] = [:]
    private var order: [OneDNNMatmul.Shape] = []
    private var refused = false
    /// Inference's products on frozen weights, per shape (a full batch and the last, partial one), each with
    /// its weights converted once; dropped when the weights thaw.
    private var frozenProducts: [OneDNNMatmul.Shape: OneDNNMatmul] = [:]
    private var frozenRefused = false
    /// Whether the weights stay put until further notice (`Model.withFrozenWeights`).
    var weightsFrozen = false {
        didSet { if !weightsFrozen { frozenProducts = [:] } }
    }
    /// How many products' primitives a layer keeps (forward, ∂x and ∂w, for a batch size or two).
    static let cacheSize = 6

    init(name: String) { self.name = name }

    /// Whether this layer's products run in bf16 on oneDNN.
    var bf16: Bool {
        !refused && (backend ?? KernelBackend.current) == .onednn && (precision ?? KernelBackend.precision) == .bf16
    }

    /// What the last product ran on: "onednn:<implementation>" or "sgemm".
    private(set) var lastKernelName = "sgemm"

    /// Whether an inference product runs on frozen weights (`runFrozen`): on oneDNN, in either precision.
    var frozen: Bool {
        weightsFrozen && !frozenRefused && (backend ?? KernelBackend.current) == .onednn
    }

    /// C = A·B (+ bias) on weights B that stay put while `weightsFrozen`, in the layer's precision: B is converted
    /// into oneDNN's blocked layout by the first call of a shape and read by the rest. false when oneDNN refused
    /// (noted once) and the caller must compute it as before.
    func runFrozen(_ shape: OneDNNMatmul.Shape, a: UnsafePointer<Float>, b: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                   c: UnsafeMutablePointer<Float>) -> Bool {
        var shape = shape
        shape.bf16 = (precision ?? KernelBackend.precision) == .bf16
        shape.constantB = true
        do {
            let product: OneDNNMatmul
            if let known = frozenProducts[shape] {
                product = known
            } else {
                product = try OneDNNMatmul(shape)
                try product.convert(b: b)
                if frozenProducts.count >= 2 { frozenProducts = [:] }
                frozenProducts[shape] = product
            }
            try product.run(a: a, bias: bias, c: c)
            lastKernelName = "onednn:\(product.implementation)"
            return true
        } catch {
            frozenRefused = true
            frozenProducts = [:]
            KernelBackend.note("\(name): \(error); its inference runs as its training does")
            return false
        }
    }

    /// Runs C (+)= A·B (+ bias) in bf16; false when oneDNN refused this layer (noted once) and the caller
    /// must compute it in fp32. With `reusing`, B is the product of that shape's B as its last run converted
    /// it (∂x reuses the forward's bf16 weights), when that product is still cached; else `b` is converted.
    func run(_ shape: OneDNNMatmul.Shape, a: UnsafePointer<Float>, b: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
             c: UnsafeMutablePointer<Float>, reusing source: OneDNNMatmul.Shape? = nil) -> Bool {
        do {
            let product: OneDNNMatmul
            if let p = products[shape] {
                product = p
            } else {
                product = try OneDNNMatmul(shape)
                if order.count >= Self.cacheSize { products[order.removeFirst()] = nil }
                products[shape] = product
                order.append(shape)
            }
            if let source, let converted = products[source] {
                try product.run(a: a, reusingBOf: converted, bias: bias, c: c)
            } else {
                try product.run(a: a, b: b, bias: bias, c: c)
            }
            lastKernelName = "onednn:\(product.implementation)"
            return true
        } catch {
            refused = true
            products = [:]
            order = []
            lastKernelName = "sgemm"
            KernelBackend.note("\(name): \(error); this layer computes in fp32 on sgemm")
            return false
        }
    }
}
