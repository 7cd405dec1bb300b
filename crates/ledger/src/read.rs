//! Streaming the ledger back: frames in order across segments (for verify, show,
//! search, export and reports), and one record by index through the index file.

use std::fs::File;
use std::io::{BufReader, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::Error;
use crate::frame;
use crate::merkle::{Hash, leaf_hash};
use crate::record::{Entry, MAX_RECORD_BYTES};
use crate::store::{INDEX_ENTRY, list_segments, segment_name};

/// One frame read from a segment, or where a segment stopped making sense.
#[derive(Debug)]
pub enum Item {
    Record {
        segment: u64,
        offset: u64,
        payload: Vec<u8>,
    },
    /// The rest of this segment cannot be framed (reading continues with the next one).
    Damaged {
        segment: u64,
        offset: u64,
        why: &'static str,
    },
}

/// Frames of every segment in order, read with a bounded buffer.
pub struct Frames {
    dir: PathBuf,
    segments: Vec<u64>,
    next_segment: usize,
    current: Option<(u64, BufReader<File>, u64)>,
}

impl Frames {
    pub fn open(dir: &Path) -> Result<Frames, Error> {
        Ok(Frames {
            dir: dir.to_path_buf(),
            segments: list_segments(dir)?,
            next_segment: 0,
            current: None,
        })
    }

    pub fn segments(&self) -> &[u64] {
        &self.segments
    }
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

impl Iterator for Frames {
    type Item = Result<Item, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.current.is_none() {
                let s = *self.segments.get(self.next_segment)?;
                self.next_segment += 1;
                let p = self.dir.join("segments").join(segment_name(s));
                match File::open(&p) {
                    Ok(f) => self.current = Some((s, BufReader::with_capacity(1 << 20, f), 0)),
                    Err(e) => return Some(Err(Error::io(&format!("open {}", p.display()), e))),
                }
            }
            let (seg, r, off) = self.current.as_mut().expect("set above");
            let (seg, at) = (*seg, *off);
            let mut hdr = [0u8; frame::HEADER];
            let n = match read_full(r, &mut hdr) {
                Ok(n) => n,
                Err(e) => return Some(Err(Error::io("read a segment", e))),
            };
            if n == 0 {
                self.current = None;
                continue;
            }
            let damaged = |why| {
                Some(Ok(Item::Damaged {
                    segment: seg,
                    offset: at,
                    why,
                }))
            };
            if n < frame::HEADER {
                self.current = None;
                return damaged("torn record at the end of the segment");
            }
            let len = u32::from_le_bytes(hdr[0..4].try_into().expect("4")) as usize;
            let crc = u32::from_le_bytes(hdr[4..8].try_into().expect("4"));
            if len == 0 || len > MAX_RECORD_BYTES {
                self.current = None;
                return damaged("impossible record length");
            }
            let mut payload = vec![0u8; len];
            match read_full(r, &mut payload) {
                Ok(n) if n == len => {}
                Ok(_) => {
                    self.current = None;
                    return damaged("torn record at the end of the segment");
                }
                Err(e) => return Some(Err(Error::io("read a segment", e))),
            }
            if crc32c::crc32c(&payload) != crc {
                self.current = None;
                return damaged("checksum mismatch");
            }
            *off += (frame::HEADER + len) as u64;
            return Some(Ok(Item::Record {
                segment: seg,
                offset: at,
                payload,
            }));
        }
    }
}

/// Parsed records in order, with their leaf hashes. Damage ends the stream with an
/// error (use `verify` to learn more).
pub fn entries(dir: &Path) -> Result<impl Iterator<Item = Result<(Entry, Hash), Error>>, Error> {
    let frames = Frames::open(dir)?;
    Ok(frames.map(|item| match item? {
        Item::Record {
            payload,
            segment,
            offset,
        } => {
            let e: Entry = serde_json::from_slice(&payload).map_err(|e| {
                Error::Corrupt(format!(
                    "record at {} offset {offset} is not a valid record: {e}",
                    segment_name(segment)
                ))
            })?;
            Ok((e, leaf_hash(&payload)))
        }
        Item::Damaged {
            segment,
            offset,
            why,
        } => Err(Error::Corrupt(format!(
            "{} at byte {offset}: {why}",
            segment_name(segment)
        ))),
    }))
}

/// Reads one record by index through the index file, and checks that its bytes hash to
/// the leaf the index holds for it.
pub fn read_index(dir: &Path, index: u64) -> Result<(Entry, Hash), Error> {
    let (payload, leaf) = read_payload(dir, index)?;
    let e: Entry = serde_json::from_slice(&payload)
        .map_err(|e| Error::Corrupt(format!("record {index} is not a valid record: {e}")))?;
    if e.index != index {
        return Err(Error::Corrupt(format!(
            "the index points record {index} at record {}",
            e.index
        )));
    }
    Ok((e, leaf))
}

/// The raw bytes of record `index`, checked against the index file's leaf hash.
pub fn read_payload(dir: &Path, index: u64) -> Result<(Vec<u8>, Hash), Error> {
    let idx = File::open(dir.join("index")).map_err(|e| Error::io("open the index", e))?;
    let mut ent = [0u8; INDEX_ENTRY as usize];
    idx.read_exact_at(&mut ent, index * INDEX_ENTRY)
        .map_err(|_| Error::NotFound(format!("record {index}")))?;
    let leaf: Hash = ent[..32].try_into().expect("32");
    let offset = u64::from_le_bytes(ent[32..40].try_into().expect("8"));
    let segs = list_segments(dir)?;
    let seg = segs
        .iter()
        .rev()
        .find(|s| **s <= index)
        .ok_or_else(|| Error::NotFound(format!("segment of record {index}")))?;
    let f = File::open(dir.join("segments").join(segment_name(*seg)))
        .map_err(|e| Error::io("open a segment", e))?;
    let mut hdr = [0u8; frame::HEADER];
    f.read_exact_at(&mut hdr, offset)
        .map_err(|e| Error::io("read a record", e))?;
    let len = u32::from_le_bytes(hdr[0..4].try_into().expect("4")) as usize;
    if len == 0 || len > MAX_RECORD_BYTES {
        return Err(Error::Corrupt(format!("record {index}: impossible length")));
    }
    let mut payload = vec![0u8; len];
    f.read_exact_at(&mut payload, offset + frame::HEADER as u64)
        .map_err(|e| Error::io("read a record", e))?;
    if leaf_hash(&payload) != leaf {
        return Err(Error::Corrupt(format!(
            "record {index} does not hash to its index entry"
        )));
    }
    Ok((payload, leaf))
}

/// Number of records the index file covers.
pub fn indexed_size(dir: &Path) -> Result<u64, Error> {
    Ok(std::fs::metadata(dir.join("index"))
        .map_err(|e| Error::io("stat the index", e))?
        .len()
        / INDEX_ENTRY)
}

/// Leaf `index` from the index file (for proofs; checked by `verify` against the records).
pub fn index_leaf(idx: &File, index: u64) -> Result<Hash, Error> {
    let mut ent = [0u8; 32];
    idx.read_exact_at(&mut ent, index * INDEX_ENTRY)
        .map_err(|e| Error::io("read the index", e))?;
    Ok(ent)
}
