//! A minimal PNG writer (no PNG crate in the lock file): an RGB canvas,
//! lines drawn with a square pen, encoded as zlib *stored* blocks (no
//! compression) with the CRC-32 and Adler-32 the format requires. Charts
//! have no text (no font): the README's captions name the axes.

/// An RGB image, white to start with.
pub struct Canvas {
    pub w: usize,
    pub h: usize,
    px: Vec<u8>,
}

impl Canvas {
    pub fn new(w: usize, h: usize) -> Self {
        Canvas {
            w,
            h,
            px: vec![255; w * h * 3],
        }
    }

    fn dot(&mut self, x: i64, y: i64, rgb: [u8; 3], pen: i64) {
        for dy in 0..pen {
            for dx in 0..pen {
                let (x, y) = (x + dx - pen / 2, y + dy - pen / 2);
                if x >= 0 && y >= 0 && (x as usize) < self.w && (y as usize) < self.h {
                    let i = (y as usize * self.w + x as usize) * 3;
                    self.px[i..i + 3].copy_from_slice(&rgb);
                }
            }
        }
    }

    /// A straight line (Bresenham) with a `pen`-pixel square pen.
    pub fn line(&mut self, (x0, y0): (i64, i64), (x1, y1): (i64, i64), rgb: [u8; 3], pen: i64) {
        let (dx, dy) = ((x1 - x0).abs(), -(y1 - y0).abs());
        let (sx, sy) = (if x0 < x1 { 1 } else { -1 }, if y0 < y1 { 1 } else { -1 });
        let (mut x, mut y, mut err) = (x0, y0, dx + dy);
        loop {
            self.dot(x, y, rgb, pen);
            if x == x1 && y == y1 {
                break;
            }
            let e2 = 2 * err;
            if e2 >= dy {
                err += dy;
                x += sx;
            }
            if e2 <= dx {
                err += dx;
                y += sy;
            }
        }
    }

    /// The PNG file's bytes: 4-bit indexed colour when the image has at
    /// most 16 colours (a chart does), else 8-bit RGB; filter 0 on every
    /// row.
    pub fn encode(&self) -> Vec<u8> {
        let mut palette: Vec<[u8; 3]> = Vec::new();
        for p in self.px.chunks(3) {
            let p = [p[0], p[1], p[2]];
            if !palette.contains(&p) {
                palette.push(p);
                if palette.len() > 16 {
                    break;
                }
            }
        }
        let indexed = palette.len() <= 16;
        let mut raw = Vec::new();
        for row in self.px.chunks(self.w * 3) {
            raw.push(0);
            if indexed {
                let idx: Vec<u8> = row
                    .chunks(3)
                    .map(|p| palette.iter().position(|q| q[..] == p[..]).unwrap_or(0) as u8)
                    .collect();
                raw.extend(
                    idx.chunks(2)
                        .map(|c| (c[0] << 4) | c.get(1).copied().unwrap_or(0)),
                );
            } else {
                raw.extend_from_slice(row);
            }
        }
        let mut z = vec![0x78, 0x01];
        let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
        for (i, b) in blocks.iter().enumerate() {
            z.push(u8::from(i + 1 == blocks.len()));
            let len = b.len() as u16;
            z.extend_from_slice(&len.to_le_bytes());
            z.extend_from_slice(&(!len).to_le_bytes());
            z.extend_from_slice(b);
        }
        z.extend_from_slice(&adler32(&raw).to_be_bytes());
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&(self.w as u32).to_be_bytes());
        ihdr.extend_from_slice(&(self.h as u32).to_be_bytes());
        let (depth, colour) = if indexed { (4, 3) } else { (8, 2) };
        ihdr.extend_from_slice(&[depth, colour, 0, 0, 0]);
        let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
        chunk(&mut out, b"IHDR", &ihdr);
        if indexed {
            chunk(&mut out, b"PLTE", &palette.concat());
        }
        chunk(&mut out, b"IDAT", &z);
        chunk(&mut out, b"IEND", &[]);
        out
    }
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// CRC-32 (IEEE, reflected, as PNG and zlib's gzip use it).
pub fn crc32(data: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 == 1 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// Adler-32 (zlib's trailer).
pub fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &x in data {
        a = (a + u32::from(x)) % 65_521;
        b = (b + a) % 65_521;
    }
    (b << 16) | a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_match_the_known_values() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
    }

    #[test]
    fn a_png_has_its_signature_and_chunks() {
        let mut c = Canvas::new(300, 250);
        c.line((0, 0), (299, 249), [255, 0, 0], 2);
        let png = c.encode();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&png[12..16], b"IHDR");
        assert_eq!(&png[png.len() - 8..png.len() - 4], b"IEND");
        // Two colours: 4-bit indexed, 250 rows of 1 + 150 bytes, stored.
        assert_eq!(png[24..26], [4, 3]);
        assert!(png.len() > 250 * 151);
    }
}
