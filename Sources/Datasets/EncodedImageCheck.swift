/// The pre-scan's look at one encoded image (a file, or a member of a tar shard) without decoding it:
/// its header read from the first bytes (format, size, channels, the decoder's refusals), and whether
/// the bytes end where a whole image ends — a JPEG's end-of-image marker after its scan data, a PNG's
/// IEND chunk — which catches files cut short by a failed copy. `decode` also decodes it whole.
public enum EncodedImageCheck {
    /// Bytes read for the header; a header that runs past them (a large ICC profile or EXIF block) is
    /// read again from the whole file.
    public static let headBytes = 1 << 16
    /// How far from the end the end marker is looked for (trailing padding after it is tolerated).
    public static let tailBytes = 1 << 12

    /// nil when the image looks whole; otherwise why it cannot be read. `read(offset, count)` returns
    /// the bytes at `offset` (fewer at the end, or throws); `size` is the encoded image's length.
    public static func check(size: Int, path: String, decode: Bool,
                             read: (_ offset: Int, _ count: Int) throws -> [UInt8]) -> String? {
        do {
            guard size > 0 else { return "empty file" }
            var (probe, bytes) = try header(size: size, path: path, whole: decode, read: read)
            guard case let .header(header, scanOffset) = probe else { return "truncated: the file ends inside its header" }
            let isJPEG = bytes.count >= 2 && bytes[0] == 0xff && bytes[1] == 0xd8
            let tailStart = max(isJPEG ? scanOffset : 8, size - tailBytes)
            let tail = bytes.count == size ? Array(bytes[min(tailStart, size)...]) : try read(tailStart, size - tailStart)
            if isJPEG && !contains(tail, [0xff, 0xd9]) {
                return "truncated: no end-of-image marker after the image data"
            }
            if !isJPEG && !contains(tail, Array("IEND".utf8)) { return "truncated: no IEND chunk at the end" }
            if decode {
                if bytes.count < size { bytes = try read(0, size) }
                let image = try ImageCodec.decode(bytes, path: path)
                if image.channels != header.channels { return "decodes to \(image.channels) channels, its header says \(header.channels)" }
            }
            return nil
        } catch let DatasetError.undecodable(_, reason) {
            return reason
        } catch let DatasetError.unreadable(_, reason) {
            return reason
        } catch {
            return "\(error)"
        }
    }

    /// The header read from the first `headBytes` (all of them with `whole`), read again from the whole
    /// image when it runs past them; with the bytes it was read from.
    public static func header(size: Int, path: String, whole: Bool = false,
                              read: (_ offset: Int, _ count: Int) throws -> [UInt8]) throws -> (probe: ImageCodec.Probe, bytes: [UInt8]) {
        var bytes = try read(0, min(size, whole ? size : headBytes))
        var probe = try bytes.withUnsafeBufferPointer { try ImageCodec.probe($0, path: path) }
        if probe == .needsMoreBytes && bytes.count < size {
            bytes = try read(0, size)
            probe = try bytes.withUnsafeBufferPointer { try ImageCodec.probe($0, path: path) }
        }
        return (probe, bytes)
    }

    /// The channels of the first of `count` images whose header reads (3 when none does: the pre-scan names them).
    public static func firstChannels(count: Int, size: (Int) -> Int, path: (Int) -> String,
                                     read: (_ index: Int, _ offset: Int, _ count: Int) throws -> [UInt8]) -> Int {
        for i in 0..<min(count, 64) {
            if case let .header(h, _)? = try? header(size: size(i), path: path(i), read: { try read(i, $0, $1) }).probe { return h.channels }
        }
        return 3
    }

    static func contains(_ bytes: [UInt8], _ pattern: [UInt8]) -> Bool {
        guard bytes.count >= pattern.count else { return false }
        for i in 0...(bytes.count - pattern.count) where bytes[i] == pattern[0] {
            if Array(bytes[i..<(i + pattern.count)]) == pattern { return true }
        }
        return false
    }
}
