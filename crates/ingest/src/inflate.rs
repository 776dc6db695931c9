//! Inflating a gzip file held whole in memory.
//!
//! Trail files are small and read whole anyway, so the fast path hands the complete buffer to
//! libdeflate, which inflates about twice as fast as a streaming zlib: one call per gzip member,
//! straight into the output buffer, sized from the trailer's ISIZE so that a usual one-member file
//! needs a single allocation. Whatever libdeflate rejects goes through flate2's streaming
//! multi-member decoder, which either reads it after all or says precisely what is wrong.

// libdeflate is a C library: its calls are FFI, each `unsafe` block states what it relies on.
#![allow(unsafe_code)]

use std::cell::RefCell;
use std::io::Read;
use std::ptr::NonNull;

use flate2::read::MultiGzDecoder;
use libdeflate_sys::{
    libdeflate_alloc_decompressor, libdeflate_decompressor, libdeflate_free_decompressor,
    libdeflate_gzip_decompress_ex, libdeflate_result_LIBDEFLATE_INSUFFICIENT_SPACE,
    libdeflate_result_LIBDEFLATE_SUCCESS,
};

/// The most a file may inflate to: far above any CloudTrail log file (AWS delivers them every few
/// minutes, a few MB at most), far below what a gzip bomb (1 GiB of blanks in 4.6 MB) asks per
/// decoding thread. A file past it is damaged, with this reason.
pub const MAX_INFLATED_BYTES: usize = 256 << 20;

/// A libdeflate decompressor; each thread keeps one, as allocating it costs more than a small file.
struct Decompressor(NonNull<libdeflate_decompressor>);

impl Decompressor {
    fn new() -> Option<Self> {
        // SAFETY: no preconditions; a null result (out of memory) is handled.
        NonNull::new(unsafe { libdeflate_alloc_decompressor() }).map(Self)
    }
}

impl Drop for Decompressor {
    fn drop(&mut self) {
        // SAFETY: allocated by libdeflate_alloc_decompressor and freed once, here.
        unsafe { libdeflate_free_decompressor(self.0.as_ptr()) }
    }
}

thread_local! {
    static DECOMPRESSOR: RefCell<Option<Decompressor>> = const { RefCell::new(None) };
}

/// Why a gzip file was not inflated.
#[derive(Debug)]
pub(crate) enum InflateError {
    /// Truncated, corrupt, or not gzip after all: what the decoder said.
    Corrupt(std::io::Error),
    /// It inflates to more than [`MAX_INFLATED_BYTES`].
    TooLarge,
}

/// Inflates every gzip member of `raw`, in order, up to [`MAX_INFLATED_BYTES`].
pub(crate) fn inflate_gzip(raw: &[u8]) -> Result<Vec<u8>, InflateError> {
    let fast = DECOMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Decompressor::new();
        }
        slot.as_ref().and_then(|d| inflate_members(d, raw))
    });
    match fast {
        Some(out) => Ok(out),
        None => inflate_streaming(raw),
    }
}

/// The whole-buffer path; `None` when libdeflate cannot read the input (corrupt, truncated,
/// trailing bytes) or it would need an implausibly large buffer.
fn inflate_members(decompressor: &Decompressor, raw: &[u8]) -> Option<Vec<u8>> {
    // The trailer's ISIZE is the last member's length modulo 2^32: exact for one member, and a
    // starting point otherwise.
    let trailer_size = raw
        .len()
        .checked_sub(4)
        .map(|at| u32::from_le_bytes(raw[at..].try_into().expect("four bytes")) as usize)?;
    // Deflate cannot expand more than 1032 to 1, so a damaged trailer cannot ask for more.
    let guess = trailer_size
        .max(raw.len())
        .min(raw.len().saturating_mul(1032));
    let mut out: Vec<u8> = Vec::with_capacity(guess.min(MAX_INFLATED_BYTES));
    let mut input = raw;
    while !input.is_empty() {
        let (mut consumed, mut produced) = (0usize, 0usize);
        let spare = out.spare_capacity_mut();
        // SAFETY: the decompressor is live and used by this thread only; the input and the spare
        // capacity are valid for the lengths passed, and libdeflate writes at most `spare.len()`
        // bytes, all of them initialised before `set_len` below counts them.
        let result = unsafe {
            libdeflate_gzip_decompress_ex(
                decompressor.0.as_ptr(),
                input.as_ptr().cast(),
                input.len(),
                spare.as_mut_ptr().cast(),
                spare.len(),
                &raw mut consumed,
                &raw mut produced,
            )
        };
        if result == libdeflate_result_LIBDEFLATE_SUCCESS {
            // SAFETY: see above; `produced <= spare.len()`.
            unsafe { out.set_len(out.len() + produced) };
            input = &input[consumed..];
        } else if result == libdeflate_result_LIBDEFLATE_INSUFFICIENT_SPACE {
            // The member is inflated again from its start into a larger buffer.
            let wanted = out.capacity().max(1 << 16) * 2;
            if wanted > MAX_INFLATED_BYTES {
                // Past the cap: the streaming decoder says whether it really is that large.
                return None;
            }
            out.reserve(wanted - out.len());
        } else {
            return None;
        }
    }
    Some(out)
}

/// Reads at most one byte past the cap, so memory stays bounded whatever the file claims.
fn inflate_streaming(raw: &[u8]) -> Result<Vec<u8>, InflateError> {
    let mut out = Vec::with_capacity(raw.len().saturating_mul(8).min(MAX_INFLATED_BYTES));
    MultiGzDecoder::new(raw)
        .take(MAX_INFLATED_BYTES as u64 + 1)
        .read_to_end(&mut out)
        .map_err(InflateError::Corrupt)?;
    if out.len() > MAX_INFLATED_BYTES {
        return Err(InflateError::TooLarge);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn reads_one_member() {
        let text = b"{\"Records\":[]}".repeat(1000);
        assert_eq!(inflate_gzip(&gzip(&text)).unwrap(), text);
    }

    #[test]
    fn reads_every_member_even_when_the_last_is_the_smallest() {
        let first = b"{\"Records\":[".repeat(50_000);
        let last = b"]}".to_vec();
        let mut raw = gzip(&first);
        raw.extend(gzip(&last));
        let mut expected = first;
        expected.extend(last);
        assert_eq!(inflate_gzip(&raw).unwrap(), expected);
    }

    #[test]
    fn a_truncated_stream_is_an_error_with_a_reason() {
        let raw = gzip(&b"{\"Records\":[]}".repeat(1000));
        let error = inflate_gzip(&raw[..raw.len() / 2]).unwrap_err();
        assert!(matches!(error, InflateError::Corrupt(ref e) if !e.to_string().is_empty()));
    }

    #[test]
    fn a_gzip_bomb_stops_at_the_cap() {
        // One MiB of blanks is a member of about 1 KB; 300 of them inflate to 300 MiB.
        let member = gzip(&vec![b' '; 1 << 20]);
        let bomb = member.repeat(300);
        assert!(bomb.len() < 2 << 20, "{} bytes", bomb.len());
        assert!(matches!(inflate_gzip(&bomb), Err(InflateError::TooLarge)));
        // Just under the cap still inflates.
        let under = member.repeat(255);
        assert_eq!(inflate_gzip(&under).unwrap().len(), 255 << 20);
    }

    #[test]
    fn a_corrupt_checksum_is_an_error() {
        let mut raw = gzip(b"{\"Records\":[]}");
        let crc_at = raw.len() - 8;
        raw[crc_at] ^= 0xff;
        assert!(inflate_gzip(&raw).is_err());
    }
}
