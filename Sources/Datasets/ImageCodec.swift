import CImageCodecs

/// PNG and JPEG through libpng and libjpeg-turbo (the C shim in CImageCodecs), as channel-planar bytes.
public enum ImageCodec {
    /// A decoded image, C×H×W bytes (C = 1 for grey, 3 for colour).
    public struct Image: Sendable {
        public var pixels: [UInt8]
        public var channels: Int
        public var height: Int
        public var width: Int

        public init(pixels: [UInt8], channels: Int, height: Int, width: Int) {
            self.pixels = pixels; self.channels = channels; self.height = height; self.width = width
        }
    }

    /// What an image's header says (`ImageCodec.probe`): its stored size and the channels it decodes to.
    public struct Header: Sendable, Equatable {
        public var channels: Int
        public var height: Int
        public var width: Int
    }

    /// Decodes a PNG or JPEG. `minimumSide` lets a large JPEG decode at 1/2, 1/4 or 1/8 of its size
    /// (libjpeg's DCT scaling, as PIL's `draft`) while its shorter side stays at least that long.
    public static func decode(_ bytes: [UInt8], path: String, minimumSide: Int = 0) throws -> Image {
        try bytes.withUnsafeBufferPointer { try decode($0, path: path, minimumSide: minimumSide) }
    }

    public static func decode(_ bytes: UnsafeBufferPointer<UInt8>, path: String, minimumSide: Int = 0) throws -> Image {
        var raw: UnsafeMutablePointer<UInt8>?
        var info = dc_image_info()
        var err = [CChar](repeating: 0, count: 256)
        let status = dc_decode_image(bytes.baseAddress, bytes.count, Int32(clamping: minimumSide), &raw, &info, &err, err.count)
        guard status == 0, let raw else { throw DatasetError.undecodable(path: path, reason: message(err)) }
        defer { dc_free(raw) }
        let channels = Int(info.channels), height = Int(info.decoded_height), width = Int(info.decoded_width), hw = height * width
        var planar = [UInt8](repeating: 0, count: channels * hw)
        planar.withUnsafeMutableBufferPointer { p in
            if channels == 1 { p.baseAddress!.update(from: raw, count: hw); return }
            for i in 0..<hw { for ch in 0..<channels { p[ch * hw + i] = raw[i * channels + ch] } }
        }
        return Image(pixels: planar, channels: channels, height: height, width: width)
    }

    /// The outcome of reading a header from a file's first bytes.
    public enum Probe: Sendable, Equatable {
        case header(Header, scanOffset: Int)
        /// The header runs past the bytes given: read more of the file.
        case needsMoreBytes
    }

    /// Reads only the header of a PNG or JPEG, with the decoder's refusals (unknown format, a size
    /// out of range, unsupported components), without decoding any pixels.
    public static func probe(_ bytes: UnsafeBufferPointer<UInt8>, path: String) throws -> Probe {
        var info = dc_image_info()
        var err = [CChar](repeating: 0, count: 256)
        let status = dc_probe_image(bytes.baseAddress, bytes.count, &info, &err, err.count)
        if status == 2 { return .needsMoreBytes }
        guard status == 0 else { throw DatasetError.undecodable(path: path, reason: message(err)) }
        return .header(Header(channels: Int(info.channels), height: Int(info.height), width: Int(info.width)),
                       scanOffset: Int(info.scan_offset))
    }

    static func message(_ err: [CChar]) -> String {
        String(decoding: err.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Encodes a C×H×W image (C = 1 or 3) as PNG, or as JPEG at `quality`.
    public static func encode(_ image: Image, jpegQuality quality: Int? = nil) throws -> [UInt8] {
        let hw = image.height * image.width, c = image.channels
        var interleaved = [UInt8](repeating: 0, count: c * hw)
        for i in 0..<hw { for ch in 0..<c { interleaved[i * c + ch] = image.pixels[ch * hw + i] } }
        var out: UnsafeMutablePointer<UInt8>?
        var size = 0
        var err = [CChar](repeating: 0, count: 256)
        let status = interleaved.withUnsafeBufferPointer { p in
            if let q = quality {
                return dc_encode_jpeg(p.baseAddress, Int32(image.width), Int32(image.height), Int32(c), Int32(q), &out, &size, &err, err.count)
            }
            return dc_encode_png(p.baseAddress, Int32(image.width), Int32(image.height), Int32(c), &out, &size, &err, err.count)
        }
        guard status == 0, let out else {
            throw DatasetError.unsupported(path: "<encoder>", reason: message(err))
        }
        defer { dc_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: size))
    }

    /// The same image with `channels` channels: grey is repeated into RGB, RGB becomes grey by
    /// ITU-R 601-2 luma (PIL's convert("L")).
    public static func converted(_ image: Image, to channels: Int) -> Image {
        if image.channels == channels { return image }
        let hw = image.height * image.width
        var out = [UInt8](repeating: 0, count: channels * hw)
        if image.channels == 1 {
            for ch in 0..<channels { for i in 0..<hw { out[ch * hw + i] = image.pixels[i] } }
        } else {
            for i in 0..<hw {
                let l = (299 * Int(image.pixels[i]) + 587 * Int(image.pixels[hw + i]) + 114 * Int(image.pixels[2 * hw + i]) + 500) / 1000
                out[i] = UInt8(l)
            }
        }
        return Image(pixels: out, channels: channels, height: image.height, width: image.width)
    }
}
