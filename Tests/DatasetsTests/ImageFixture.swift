import Foundation

/// images.json and folder/, made by Fixtures/make_image_fixture.py with PIL, torch and torchvision.
enum ImageFixture {
    static let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.path
    static let folder = directory + "/folder"
    static let json: [String: Any] = {
        let d = try! Data(contentsOf: URL(fileURLWithPath: directory + "/images.json"))
        return try! JSONSerialization.jsonObject(with: d) as! [String: Any]
    }()
    static func floats(_ a: Any?) -> [Float] { (a as! [NSNumber]).map { $0.floatValue } }
    static func ints(_ a: Any?) -> [Int] { (a as! [NSNumber]).map { $0.intValue } }
}
