import Datasets
import Foundation
import Testing

@Suite struct NPYTests {
    @Test func roundTrip() throws {
        let values: [Float] = [1, -2.5, 3, 4, 5, 6]
        let d = NPY.encode(values, dtype: .float32, shape: [2, 3])
        #expect(d.count % 64 == 24)   // header block padded to 64 bytes, then 24 data bytes
        let a = try NPY.decode([UInt8](d), path: "mem")
        #expect(a.shape == [2, 3] && a.floats == values)
        let ints = try NPY.decode([UInt8](NPY.encode([Int64(7), -1], dtype: .int64, shape: [2])), path: "mem")
        #expect(ints.int64s == [7, -1])
    }

    @Test func rejectsBadFiles() {
        #expect(throws: DatasetError.self) { try NPY.decode([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], path: "x") }
        var d = [UInt8](NPY.encode([Float](repeating: 0, count: 4), dtype: .float32, shape: [4]))
        d.removeLast()
        #expect(throws: DatasetError.self) { try NPY.decode(d, path: "x") }
        let fortran = [UInt8](NPY.encode([Float](repeating: 0, count: 4), dtype: .float32, shape: [4]))
        let text = String(decoding: fortran, as: UTF8.self).replacingOccurrences(of: "False", with: "True ")
        #expect(throws: DatasetError.self) { try NPY.decode([UInt8](text.utf8), path: "x") }
    }
}
