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

/// The most a file may inflate to unless the user says otherwise: far above any CloudTrail log file
/// (AWS delivers them every few minutes, a few MB at most), far below what a gzip bomb (1 GiB of
/// blanks in 4.6 MB) asks per decoding thread. A file past it is damaged, with this reason.
pub const DEFAULT_MAX_INFLATED_BYTES: usize = 256 << 20;

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
    /// It inflates to more than its limit.
    TooLarge,
}

/// Inflates every gzip member of `raw`, in order, up to `limit` bytes
/// ([`DEFAULT_MAX_INFLATED_BYTES`] unless the user chose another).
pub(crate) fn inflate_gzip(raw: &[u8], limit: usize) -> Result<Vec<u8>, InflateError> {
    let fast = DECOMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Decompressor::new();
        }
        slot.as_ref().and_then(|d| inflate_members(d, raw, limit))
    });
    match fast {
        Some(out) => Ok(out),
        None => inflate_streaming(raw, limit),
    }
}

/// The whole-buffer path; `None` when libdeflate cannot read the input (corrupt, truncated,
/// trailing bytes) or it would need an implausibly large buffer.
fn inflate_members(decompressor: &Decompressor, raw: &[u8], limit: usize) -> Option<Vec<u8>> {
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
    let mut out: Vec<u8> = Vec::with_capacity(guess.min(limit));
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
            if wanted > limit {
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
fn inflate_streaming(raw: &[u8], limit: usize) -> Result<Vec<u8>, InflateError> {
    let mut out = Vec::with_capacity(raw.len().saturating_mul(8).min(limit));
    MultiGzDecoder::new(raw)
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(InflateError::Corrupt)?;
    if out.len() > limit {
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
        assert_eq!(
            inflate_gzip(&gzip(&text), DEFAULT_MAX_INFLATED_BYTES).unwrap(),
            text
        );
    }

    #[test]
    fn reads_every_member_even_when_the_last_is_the_smallest() {
        let first = b"{\"Records\":[".repeat(50_000);
        let last = b"]}".to_vec();
        let mut raw = gzip(&first);
        raw.extend(gzip(&last));
        let mut expected = first;
        expected.extend(last);
        assert_eq!(
            inflate_gzip(&raw, DEFAULT_MAX_INFLATED_BYTES).unwrap(),
            expected
        );
    }

    #[test]
    fn a_truncated_stream_is_an_error_with_a_reason() {
        let raw = gzip(&b"{\"Records\":[]}".repeat(1000));
        let error = inflate_gzip(&raw[..raw.len() / 2], DEFAULT_MAX_INFLATED_BYTES).unwrap_err();
        assert!(matches!(error, InflateError::Corrupt(ref e) if !e.to_string().is_empty()));
    }

    #[test]
    fn a_gzip_bomb_stops_at_the_cap() {
        // One MiB of blanks is a member of about 1 KB; 300 of them inflate to 300 MiB.
        let member = gzip(&vec![b' '; 1 << 20]);
        let bomb = member.repeat(300);
        assert!(bomb.len() < 2 << 20, "{} bytes", bomb.len());
        assert!(matches!(
            inflate_gzip(&bomb, DEFAULT_MAX_INFLATED_BYTES),
            Err(InflateError::TooLarge)
        ));
        // Just under the cap still inflates.
        let under = member.repeat(255);
        assert_eq!(
            inflate_gzip(&under, DEFAULT_MAX_INFLATED_BYTES)
                .unwrap()
                .len(),
            255 << 20
        );
    }

    /// Properties of inflating: members split anywhere, streams cut anywhere, bytes changed.
    mod properties {
        use std::io::Write;

        use flate2::Compression;
        use flate2::write::GzEncoder;
        use proptest::prelude::*;
        use proptest::sample::Index;

        use super::super::*;

        fn member(data: &[u8], level: u32) -> Vec<u8> {
            let mut encoder = GzEncoder::new(Vec::new(), Compression::new(level));
            encoder.write_all(data).unwrap();
            encoder.finish().unwrap()
        }

        /// Text that compresses like a trail (repeated runs) or not at all (noise).
        fn document() -> impl Strategy<Value = Vec<u8>> {
            prop_oneof![
                prop::collection::vec(any::<u8>(), 0..3000),
                (prop::collection::vec(any::<u8>(), 1..40), 1..400usize)
                    .prop_map(|(run, times)| run.repeat(times)),
            ]
        }

        /// `data` gzipped as one member per piece between the split points, each at its own
        /// level, and where each member starts.
        fn members(data: &[u8], splits: &[Index], levels: &[u32]) -> (Vec<u8>, Vec<usize>) {
            let mut cuts: Vec<usize> = splits.iter().map(|at| at.index(data.len() + 1)).collect();
            cuts.sort_unstable();
            cuts.push(data.len());
            let (mut raw, mut starts, mut from) = (Vec::new(), Vec::new(), 0);
            for (i, &to) in cuts.iter().enumerate() {
                starts.push(raw.len());
                raw.extend(member(&data[from..to], levels[i % levels.len()]));
                from = to;
            }
            (raw, starts)
        }

        fn gzipped() -> impl Strategy<Value = (Vec<u8>, Vec<u8>, Vec<usize>)> {
            (
                document(),
                prop::collection::vec(any::<Index>(), 0..5),
                prop::collection::vec(0..=9u32, 1..4),
            )
                .prop_map(|(data, splits, levels)| {
                    let (raw, starts) = members(&data, &splits, &levels);
                    (data, raw, starts)
                })
        }

        proptest! {
            #![proptest_config(ctq_testkit::proptest_config(1000))]

            #[test]
            fn members_split_anywhere_inflate_to_the_whole((data, raw, _) in gzipped()) {
                prop_assert_eq!(inflate_gzip(&raw, DEFAULT_MAX_INFLATED_BYTES).unwrap(), data);
            }

            /// Cut anywhere but between two members (where what is left is a shorter, complete
            /// stream), a stream is damaged: never a prefix passed off as the whole.
            #[test]
            fn a_cut_stream_is_an_error((data, raw, starts) in gzipped(), at in any::<Index>()) {
                let at = 1 + at.index(raw.len() - 1);
                let inflated = inflate_gzip(&raw[..at], DEFAULT_MAX_INFLATED_BYTES);
                if starts.contains(&at) {
                    prop_assert!(data.starts_with(&inflated.unwrap()));
                } else {
                    prop_assert!(inflated.is_err(), "cut at {} of {}: {:?}", at, raw.len(), inflated.map(|d| d.len()));
                }
            }

            /// A changed byte is caught by the checksums, or falls in a header field that does not
            /// change the text (the modification time, the OS).
            #[test]
            fn a_changed_byte_never_changes_the_text(
                (data, mut raw, _) in gzipped(),
                at in any::<Index>(),
                flip in 1..=255u8,
            ) {
                let at = at.index(raw.len());
                raw[at] ^= flip;
                if let Ok(inflated) = inflate_gzip(&raw, DEFAULT_MAX_INFLATED_BYTES) {
                    prop_assert_eq!(inflated, data, "byte {} ^ {:#x}", at, flip);
                }
            }
        }
    }

    #[test]
    fn a_corrupt_checksum_is_an_error() {
        let mut raw = gzip(b"{\"Records\":[]}");
        let crc_at = raw.len() - 8;
        raw[crc_at] ^= 0xff;
        assert!(inflate_gzip(&raw, DEFAULT_MAX_INFLATED_BYTES).is_err());
    }
}
