import DeepCluster
import TestSupport
import Foundation
import NN
import Tensor
import Testing

/// model.safetensors loads into the PyTorch reference model (strict state_dict) and gives the same
/// features: the fixture script ran PyTorch on exactly these bytes (same CRC-32).
@Suite struct InteropTests {
    struct Fixture: Decodable { let crc32: UInt32; let bytes: Int; let keys: [String]; let features: [Double] }

    @Test func exportedModelMatchesPyTorch() throws {
        let url = Bundle.module.url(forResource: "interop", withExtension: "json", subdirectory: "Fixtures")!
        let f = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        let model = InteropModel.make()
        let data = Checkpoint.modelData(model, metadata: ["format": "pt", "arch": "fmnist-alexnet"])
        #expect(data.count == f.bytes)
        #expect(Checksum.crc32(data) == f.crc32, "the bytes PyTorch loaded differ from what we write now")
        #expect(Set(model.store.entries.map(\.name)) == Set(f.keys))
        let x = Tensor(shape: [1, 4, 28, 28], values: InteropModel.input())
        let y = model.forward(x, mode: .eval, through: model.featureLayer).array.map(Double.init)
        let scale = f.features.map(abs).max()!
        let worst = zip(y, f.features).map { abs($0 - $1) }.max()!
        #expect(y.count == f.features.count && worst <= 1e-4 * scale, "max |Δ| \(worst) at scale \(scale)")
    }

    @Test func chartHasEveryCurve() {
        var a = EpochRecord(), b = EpochRecord()
        a.epoch = 0; a.loss = 4.6; a.nmi_labels = 0.4; a.images_per_s = 800
        b.epoch = 1; b.loss = 4.1; b.nmi_prev = 0.6; b.nmi_labels = 0.45; b.images_per_s = 810
        let svg = MetricsChart.svg([a, b])
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n"))
        #expect(svg.components(separatedBy: "<polyline").count - 1 == 4)
    }
}
