/// Images laid out in a grid as one RGB image (a gallery's picture of a cluster): each cut to its
/// centred square and resized bilinearly to `thumbnail` pixels, grey images repeated into RGB,
/// `gap` pixels of background between them; a row shorter than `columns` leaves its end empty.
public enum ContactSheet {
    public static func compose(rows: [[ImageCodec.Image]], columns: Int, thumbnail: Int, gap: Int = 2,
                               background: UInt8 = 255) -> ImageCodec.Image {
        let width = columns * thumbnail + (columns + 1) * gap
        let height = max(rows.count, 1) * thumbnail + (max(rows.count, 1) + 1) * gap
        var pixels = [UInt8](repeating: background, count: 3 * height * width)
        var plane = [Float](repeating: 0, count: 3 * thumbnail * thumbnail)
        for (r, row) in rows.enumerated() {
            for (c, image) in row.prefix(columns).enumerated() {
                let box = SampleBox.resizeCenterCrop(height: image.height, width: image.width, resize: thumbnail, size: thumbnail)
                image.pixels.withUnsafeBufferPointer { src in
                    plane.withUnsafeMutableBufferPointer {
                        box.sample(src.baseAddress!, channels: image.channels, height: image.height, width: image.width,
                                   into: $0.baseAddress!, outHeight: thumbnail, outWidth: thumbnail)
                    }
                }
                let top = gap + r * (thumbnail + gap), left = gap + c * (thumbnail + gap)
                for ch in 0..<3 {
                    let from = min(ch, image.channels - 1) * thumbnail * thumbnail
                    for y in 0..<thumbnail {
                        for x in 0..<thumbnail {
                            let v = plane[from + y * thumbnail + x]
                            pixels[ch * height * width + (top + y) * width + left + x] = UInt8(min(max(v.rounded(), 0), 255))
                        }
                    }
                }
            }
        }
        return ImageCodec.Image(pixels: pixels, channels: 3, height: height, width: width)
    }
}
