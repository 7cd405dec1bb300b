//! Per-record framing in segment files: `len: u32 LE ‖ crc32c(payload): u32 LE ‖ payload`.
//! A torn write leaves a frame whose length runs past the file's end or whose checksum
//! fails, which is how a crash's tail is recognised and cut.

pub const HEADER: usize = 8;

pub fn encode(payload: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32c::crc32c(payload).to_le_bytes());
    out.extend_from_slice(payload);
}

#[derive(Debug, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// A whole frame: its payload and total length.
    Frame(&'a [u8], usize),
    /// The buffer ends before the frame does (a torn write, or more to read).
    Short,
    /// The length is impossible or the checksum fails.
    Bad(&'static str),
}

pub fn decode(buf: &[u8], max_payload: usize) -> Decoded<'_> {
    if buf.len() < HEADER {
        return Decoded::Short;
    }
    let len = u32::from_le_bytes(buf[0..4].try_into().expect("4 bytes")) as usize;
    let crc = u32::from_le_bytes(buf[4..8].try_into().expect("4 bytes"));
    if len == 0 || len > max_payload {
        return Decoded::Bad("impossible record length");
    }
    if buf.len() < HEADER + len {
        return Decoded::Short;
    }
    let payload = &buf[HEADER..HEADER + len];
    if crc32c::crc32c(payload) != crc {
        return Decoded::Bad("checksum mismatch");
    }
    Decoded::Frame(payload, HEADER + len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_damage() {
        let mut b = Vec::new();
        encode(b"{\"a\":1}", &mut b);
        assert_eq!(decode(&b, 100), Decoded::Frame(b"{\"a\":1}", b.len()));
        assert_eq!(decode(&b[..b.len() - 1], 100), Decoded::Short);
        let mut c = b.clone();
        c[10] ^= 1;
        assert_eq!(decode(&c, 100), Decoded::Bad("checksum mismatch"));
        assert_eq!(decode(&b, 3), Decoded::Bad("impossible record length"));
    }
}
