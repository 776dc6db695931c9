//! Finding where each record of a `{"Records":[...]}` file starts and ends without parsing it.
//!
//! A query that needs only records with an `errorCode` (every denial query) must still read
//! every file, but need not parse the nine records in ten that lack the key. This module
//! delimits them at memory speed, the way simdjson's first stage does: the text is classified 64
//! bytes at a time into bit masks of quotes, backslashes and brackets; escaped quotes are removed;
//! a prefix XOR of the quotes masks out everything inside strings; the brackets left give the
//! nesting depth, and so the records' spans.
//!
//! Delimiting checks that strings are terminated, brackets balance, records are objects separated
//! by commas, and nothing follows the envelope. It does not check every token: a record the query
//! skips could hold `tru` for `true` unnoticed. Delivered files are gzip, whose CRC already
//! rejects damage, and whatever this module cannot delimit it leaves to the full parser, which
//! then names the fault.

// SSE2 intrinsics are `unsafe` functions; x86_64 always has SSE2, which each block relies on.
#![allow(unsafe_code)]

use std::ops::Range;

/// Byte ranges of the records of `text`, when it is exactly one `{"Records":[...]}` object whose
/// records are all objects; `None` for any other shape or any structural fault.
pub(crate) fn record_spans(text: &[u8]) -> Option<Vec<Range<usize>>> {
    spans_with(text, classify)
}

/// [`record_spans`] with the given block classifier (the tests run both).
fn spans_with(
    text: &[u8],
    classify_block: impl Fn(&[u8; 64]) -> Masks,
) -> Option<Vec<Range<usize>>> {
    let array_start = records_array_start(text)?;
    let mut spans = Vec::new();
    let mut scanner = Scanner::default();
    // Depth inside the Records array: 0 between records.
    let mut depth = 0usize;
    let mut record_start = 0usize;
    let mut previous_end: Option<usize> = None;
    let mut array_end = None;
    let body = &text[array_start..];
    let mut padded = [b' '; 64];
    'blocks: for (block_index, chunk) in body.chunks(64).enumerate() {
        let bytes: &[u8; 64] = if let Ok(full) = chunk.try_into() {
            full
        } else {
            // The last, short block, padded with spaces (which are not structural).
            padded[..chunk.len()].copy_from_slice(chunk);
            &padded
        };
        let masks = classify_block(bytes);
        let outside = !scanner.in_string_mask(masks.quote, masks.backslash);
        let mut brackets = (masks.open | masks.close) & outside;
        while brackets != 0 {
            let bit = brackets.trailing_zeros();
            brackets &= brackets - 1;
            let at = array_start + block_index * 64 + bit as usize;
            if masks.open & (1 << bit) != 0 {
                if depth == 0 {
                    if text[at] != b'{' || !separated(text, previous_end, at, array_start, false) {
                        return None;
                    }
                    record_start = at;
                }
                depth += 1;
            } else if depth == 0 {
                // The array's closing bracket.
                if text[at] != b']' || !separated(text, previous_end, at, array_start, true) {
                    return None;
                }
                array_end = Some(at);
                break 'blocks;
            } else {
                depth -= 1;
                if depth == 0 {
                    spans.push(record_start..at + 1);
                    previous_end = Some(at + 1);
                }
            }
        }
    }
    let array_end = array_end?;
    let rest = text[array_end + 1..].trim_ascii_start();
    (rest.strip_prefix(b"}")?.trim_ascii().is_empty()).then_some(spans)
}

/// Whether what precedes a record (or, `closing`, the array's `]`) at `at` is only whitespace
/// after the `[`, one comma after the previous record, or (before the `]`) nothing.
fn separated(
    text: &[u8],
    previous_end: Option<usize>,
    at: usize,
    array_start: usize,
    closing: bool,
) -> bool {
    match previous_end {
        None => text[array_start..at].trim_ascii().is_empty(),
        Some(end) if closing => text[end..at].trim_ascii().is_empty(),
        Some(end) => text[end..at].trim_ascii() == b",",
    }
}

/// The position just after the `[` of `{"Records": [`, when the text starts so.
fn records_array_start(text: &[u8]) -> Option<usize> {
    let rest = text
        .trim_ascii_start()
        .strip_prefix(b"{")?
        .trim_ascii_start();
    let rest = rest.strip_prefix(b"\"Records\"")?.trim_ascii_start();
    let rest = rest.strip_prefix(b":")?.trim_ascii_start();
    let rest = rest.strip_prefix(b"[")?;
    Some(text.len() - rest.len())
}

/// One bit per byte of a 64-byte block.
#[derive(Debug, PartialEq, Eq)]
struct Masks {
    quote: u64,
    backslash: u64,
    open: u64,
    close: u64,
}

/// What carries from one block to the next.
#[derive(Default)]
struct Scanner {
    /// The previous block ended with a backslash that escapes this block's first byte.
    escape_carry: bool,
    /// The previous block ended inside a string.
    in_string: bool,
}

impl Scanner {
    /// The bytes of the block that are inside a string (opening quote included, closing quote
    /// not: neither is a bracket, so it does not matter).
    fn in_string_mask(&mut self, quote: u64, backslash: u64) -> u64 {
        let mut escaped = u64::from(self.escape_carry);
        self.escape_carry = false;
        // Backslashes are rare in trails; a run of them is resolved left to right.
        let mut pending = backslash;
        while pending != 0 {
            let bit = pending.trailing_zeros();
            pending &= pending - 1;
            if escaped & (1 << bit) != 0 {
                continue;
            }
            if bit == 63 {
                self.escape_carry = true;
            } else {
                escaped |= 1 << (bit + 1);
            }
        }
        let quotes = quote & !escaped;
        let mut inside = prefix_xor(quotes);
        if self.in_string {
            inside = !inside;
        }
        self.in_string = inside >> 63 == 1;
        inside
    }
}

/// Bit i of the result is the XOR of bits 0..=i of `x`.
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

// The block classifier: SSE2 on x86_64, the scalar loop elsewhere.
#[cfg(not(target_arch = "x86_64"))]
use classify_scalar as classify;
#[cfg(target_arch = "x86_64")]
use classify_sse2 as classify;

#[cfg(target_arch = "x86_64")]
fn classify_sse2(block: &[u8; 64]) -> Masks {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    // SAFETY: SSE2 is part of the x86_64 baseline; the loads read 16 bytes within the block.
    unsafe {
        let eq = |chunk: __m128i, byte: u8| {
            u64::from(_mm_movemask_epi8(_mm_cmpeq_epi8(chunk, _mm_set1_epi8(byte as i8))) as u16)
        };
        let mut masks = Masks {
            quote: 0,
            backslash: 0,
            open: 0,
            close: 0,
        };
        for lane in 0..4 {
            let chunk = _mm_loadu_si128(block.as_ptr().add(lane * 16).cast());
            let shift = lane * 16;
            masks.quote |= eq(chunk, b'"') << shift;
            masks.backslash |= eq(chunk, b'\\') << shift;
            let open = _mm_or_si128(
                _mm_cmpeq_epi8(chunk, _mm_set1_epi8(b'{' as i8)),
                _mm_cmpeq_epi8(chunk, _mm_set1_epi8(b'[' as i8)),
            );
            let close = _mm_or_si128(
                _mm_cmpeq_epi8(chunk, _mm_set1_epi8(b'}' as i8)),
                _mm_cmpeq_epi8(chunk, _mm_set1_epi8(b']' as i8)),
            );
            masks.open |= u64::from(_mm_movemask_epi8(open) as u16) << shift;
            masks.close |= u64::from(_mm_movemask_epi8(close) as u16) << shift;
        }
        masks
    }
}

/// The portable classifier, compiled on every target: on x86_64 only the tests call it, to check
/// the SSE2 path against it.
#[cfg_attr(all(target_arch = "x86_64", not(test)), allow(dead_code))]
fn classify_scalar(block: &[u8; 64]) -> Masks {
    let mut masks = Masks {
        quote: 0,
        backslash: 0,
        open: 0,
        close: 0,
    };
    for (i, &byte) in block.iter().enumerate() {
        let bit = 1u64 << i;
        match byte {
            b'"' => masks.quote |= bit,
            b'\\' => masks.backslash |= bit,
            b'{' | b'[' => masks.open |= bit,
            b'}' | b']' => masks.close |= bit,
            _ => {}
        }
    }
    masks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(text: &str) -> Option<Vec<&str>> {
        record_spans(text.as_bytes()).map(|spans| spans.into_iter().map(|r| &text[r]).collect())
    }

    #[test]
    fn delimits_records_whatever_their_strings_hold() {
        let text =
            r#" {"Records": [{"a":"}{[\"","b":{"c":[1,{"d":"\\"}]}} , {"e":"x\\\"]"},{}] } "#;
        assert_eq!(
            records(text).unwrap(),
            [
                r#"{"a":"}{[\"","b":{"c":[1,{"d":"\\"}]}}"#,
                r#"{"e":"x\\\"]"}"#,
                "{}"
            ]
        );
        assert_eq!(records(r#"{"Records":[]}"#).unwrap(), Vec::<&str>::new());
    }

    #[test]
    fn strings_and_escapes_across_block_boundaries() {
        for pad in 0..140 {
            let filler = "x".repeat(pad);
            let backslashes = "\\\\".repeat(pad % 5);
            let text = format!(
                r#"{{"Records":[{{"k":"{filler}{backslashes}\"}}]{{"}},{{"k":"{backslashes}"}}]}}"#
            );
            let found = records(&text).unwrap_or_else(|| panic!("pad {pad}: {text}"));
            assert_eq!(found.len(), 2, "pad {pad}: {text}");
            assert!(found[1].starts_with("{\"k\""), "pad {pad}");
        }
    }

    #[test]
    fn rejects_what_is_not_exactly_an_envelope_of_objects() {
        for text in [
            r#"{"Records":[{"a":1}"#,
            r#"{"Records":[{"a":"1}]}"#,
            r#"{"Records":[{"a":1}{"b":2}]}"#,
            r#"{"Records":[{"a":1},]}"#,
            r#"{"Records":[,{"a":1}]}"#,
            r#"{"Records":[{"a":1}],"more":[]}"#,
            r#"{"Records":[{"a":1}]}{"Records":[]}"#,
            r#"{"Records":[1,{"a":1}]}"#,
            r#"{"Records":[[1]]}"#,
            r#"{"Events":[]}"#,
            r#"[{"a":1}]"#,
        ] {
            assert_eq!(records(text), None, "{text}");
        }
    }

    #[test]
    fn agrees_with_serde_json_on_generated_records() {
        let mut text = String::from("{\"Records\":[");
        let mut expected = Vec::new();
        for i in 0..300 {
            let record = serde_json::json!({
                "eventID": format!("id-{i}"),
                "errorMessage": "q\"uote\\ and } and [".repeat(i % 7),
                "requestParameters": {"policy": "{\"Statement\":[{}]}", "n": [i, {"x": null}]},
            })
            .to_string();
            if i > 0 {
                text.push(',');
            }
            text.push_str(&record);
            expected.push(record);
        }
        text.push_str("]}");
        assert_eq!(records(&text).unwrap(), expected);
    }

    /// The SSE2 classifier checked against the scalar one it stands for.
    #[cfg(target_arch = "x86_64")]
    mod sse2_against_scalar {
        use super::super::*;

        /// A deterministic stream of bytes (xorshift64*), mostly those the classifier looks for.
        struct Noise(u64);

        impl Noise {
            fn next(&mut self) -> u64 {
                self.0 ^= self.0 >> 12;
                self.0 ^= self.0 << 25;
                self.0 ^= self.0 >> 27;
                self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
            }

            /// Half the time a quote, backslash or bracket; else a separator, a letter, or any byte
            /// (those above 0x7f included, negative to SSE2's signed compares).
            fn byte(&mut self) -> u8 {
                let r = self.next();
                let pick = |set: &[u8]| set[(r >> 8) as usize % set.len()];
                match r % 8 {
                    0..=3 => pick(b"\"\\{}[]"),
                    4 => pick(b" ,:\n"),
                    5 => (r >> 8) as u8,
                    _ => pick(b"abcxyz019"),
                }
            }

            /// Text for a JSON string: quotes, backslashes, brackets, letters and non-ASCII.
            fn text(&mut self, len: usize) -> String {
                const CHARS: [char; 12] =
                    ['"', '\\', '{', '}', '[', ']', 'a', 'b', ' ', '/', 'é', '€'];
                (0..len)
                    .map(|_| CHARS[self.next() as usize % CHARS.len()])
                    .collect()
            }
        }

        fn assert_classifiers_agree(block: &[u8; 64]) {
            assert_eq!(classify_sse2(block), classify_scalar(block), "{block:?}");
        }

        #[test]
        fn the_sse2_classifier_agrees_with_the_scalar_one() {
            // Every byte value at every position of the four 16-byte lanes, alone and next to a
            // quote on each side.
            for position in 0..64 {
                for byte in 0..=255u8 {
                    let mut block = [b'x'; 64];
                    block[position] = byte;
                    assert_classifiers_agree(&block);
                    block[(position + 1) % 64] = b'"';
                    block[(position + 63) % 64] = b'\\';
                    assert_classifiers_agree(&block);
                }
            }
            // Random-ish blocks dense in quotes, backslashes and brackets.
            let mut noise = Noise(0x9e37_79b9_7f4a_7c15);
            for _ in 0..50_000 {
                let block: [u8; 64] = std::array::from_fn(|_| noise.byte());
                assert_classifiers_agree(&block);
            }
            // Whole envelopes, whose strings of every length put escapes, quotes and brackets
            // across lane and block boundaries: delimited alike, and as serde_json writes them.
            for round in 0..300 {
                let mut text = String::from("{\"Records\":[");
                let mut expected = Vec::new();
                for i in 0..(round % 9) {
                    let record = serde_json::json!({
                        "k": noise.text(round % 70 + i),
                        "n": [i, {"s": noise.text(i * 3)}],
                    })
                    .to_string();
                    if i > 0 {
                        text.push_str(&" ".repeat(round % 3));
                        text.push(',');
                    }
                    text.push_str(&record);
                    expected.push(record);
                }
                text.push_str("]}");
                let sse2 = spans_with(text.as_bytes(), classify_sse2);
                assert_eq!(sse2, spans_with(text.as_bytes(), classify_scalar), "{text}");
                let found: Vec<&str> = sse2.unwrap().into_iter().map(|r| &text[r]).collect();
                assert_eq!(found, expected);
            }
            // Noise that is rarely an envelope: the same answer from both, whatever it is.
            for len in 0..400 {
                let mut text = b"{\"Records\":[".to_vec();
                text.extend((0..len).map(|_| noise.byte()));
                assert_eq!(
                    spans_with(&text, classify_sse2),
                    spans_with(&text, classify_scalar)
                );
            }
        }

        /// The real trails of `../shared/realdata`, when present: every block, at several
        /// alignments, classified alike, and every file delimited alike.
        #[test]
        fn the_sse2_classifier_agrees_with_the_scalar_one_on_real_trails() {
            use std::io::{Read, Write};
            use std::path::{Path, PathBuf};

            fn files(dir: &Path, out: &mut Vec<PathBuf>) {
                for entry in std::fs::read_dir(dir).unwrap() {
                    let path = entry.unwrap().path();
                    let name = path.to_string_lossy();
                    if path.is_dir() {
                        files(&path, out);
                    } else if name.ends_with(".json") || name.ends_with(".json.gz") {
                        out.push(path);
                    }
                }
            }

            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/realdata");
            if !dir.is_dir() {
                // Written to the handle, not with eprintln!, so that libtest does not capture it.
                let thread = std::thread::current();
                let _ = writeln!(
                    std::io::stderr().lock(),
                    "skipped {}: ../shared/realdata is not present",
                    thread.name().unwrap_or("a test")
                );
                return;
            }
            let mut paths = Vec::new();
            files(&dir, &mut paths);
            assert!(!paths.is_empty(), "no trail file under {}", dir.display());
            let mut delimited = 0;
            for path in &paths {
                let mut text = std::fs::read(path).unwrap();
                if path.to_string_lossy().ends_with(".gz") {
                    let mut inflated = Vec::new();
                    flate2::read::MultiGzDecoder::new(&text[..])
                        .read_to_end(&mut inflated)
                        .unwrap();
                    text = inflated;
                }
                for shift in [0, 1, 7, 16, 33] {
                    for chunk in text.get(shift..).unwrap_or_default().chunks(64) {
                        let mut block = [b' '; 64];
                        block[..chunk.len()].copy_from_slice(chunk);
                        assert_eq!(
                            classify_sse2(&block),
                            classify_scalar(&block),
                            "{}: {block:?}",
                            path.display()
                        );
                    }
                }
                let sse2 = spans_with(&text, classify_sse2);
                assert_eq!(
                    sse2,
                    spans_with(&text, classify_scalar),
                    "{}",
                    path.display()
                );
                delimited += usize::from(sse2.is_some());
            }
            assert!(
                delimited > 0,
                "no real trail file was an envelope of records"
            );
        }
    }
}
