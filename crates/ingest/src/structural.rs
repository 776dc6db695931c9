//! Finding where each record of a `{"Records":[...]}` file starts and ends without parsing it.
//!
//! A query that needs only records with an `errorCode` (every denial query) must still read
//! every file, but need not parse the nine records in ten that lack the key. This module
//! delimits them at memory speed, the way simdjson's first stage does: the text is classified 64
//! bytes at a time into bit masks of quotes and backslashes; escaped quotes are removed; a prefix
//! XOR of the quotes masks out everything inside strings. What is left is a short stream of
//! tokens (brackets, separators, the opening quote of each string, numbers and literals), which
//! a table-driven state machine checks against JSON's grammar while it follows the nesting, and
//! so finds the records' spans and, when asked ([`record_index`]), where each record's own keys
//! are: a scan of every record then parses only the values it reads, and the large documents of
//! data events it does not read are never walked again.
//!
//! Delimiting also validates, so that a record the query skips unparsed still damages its file
//! when it is not JSON (a `tru` for `true`, a missing comma, a control character in a string, a
//! bad escape, invalid UTF-8): spans are returned only for text that serde_json reads too.
//! Whatever this module does not delimit it leaves to the full parser, which then names the
//! fault.

// SIMD intrinsics are `unsafe` functions: x86_64 always has SSE2, which its blocks rely on; the
// AVX-512 path is entered only once the processor is known to have it.
#![allow(unsafe_code)]

use std::ops::Range;

/// Where the records of a file are, and where each record's own keys are.
#[derive(Debug, Default)]
pub(crate) struct RecordIndex {
    /// Each record's bytes, `{` to `}`.
    pub spans: Vec<Range<usize>>,
    /// The offset of the opening quote of every key of a record's top-level object, all records
    /// in file order (keys of nested objects are not here).
    pub keys: Vec<usize>,
    /// For each record, where its keys end in [`RecordIndex::keys`] (they start where the
    /// previous record's end).
    pub key_ends: Vec<usize>,
}

impl RecordIndex {
    /// The record `i`'s span and the offsets of its keys.
    pub fn record(&self, i: usize) -> (Range<usize>, &[usize]) {
        let from = if i == 0 { 0 } else { self.key_ends[i - 1] };
        (self.spans[i].clone(), &self.keys[from..self.key_ends[i]])
    }
}

/// Byte ranges of the records of `text`, when it is exactly one `{"Records":[...]}` object (the
/// key written so, no other key) whose records are all objects, and all of it valid JSON; `None`
/// for any other shape or any fault.
pub(crate) fn record_spans(text: &[u8]) -> Option<Vec<Range<usize>>> {
    index(text, &TRANSITIONS).map(|index| index.spans)
}

/// The records of `text` and their keys, on the terms of [`record_spans`]: a record's keys found
/// so let a reader parse only the values it wants, the others skipped at this pass's speed.
pub(crate) fn record_index(text: &[u8]) -> Option<RecordIndex> {
    index(text, &TRANSITIONS_KEYED)
}

/// [`index_with`] compiled for the widest vectors this processor has: AVX-512 classifies a block
/// in one compare per mask and carry-less multiplication finds the strings, which takes a sixth
/// off the pass (2.95 -> 3.5 GB/s over 600 of the benchmark trail's files, one core); SSE2
/// otherwise.
fn index(text: &[u8], table: &Table) -> Option<RecordIndex> {
    #[cfg(target_arch = "x86_64")]
    if avx512::available() {
        // SAFETY: the processor has the features `index` is compiled for, checked just above.
        return unsafe { avx512::index(text, table) };
    }
    index_with(text, classify, prefix_xor, table)
}

/// [`record_spans`] with the given block classifier.
#[cfg(test)]
fn spans_with(
    text: &[u8],
    classify_block: impl Fn(&[u8; 64]) -> Masks,
) -> Option<Vec<Range<usize>>> {
    index_with(text, classify_block, prefix_xor, &TRANSITIONS).map(|index| index.spans)
}

/// The records of `text` with the given block classifier and prefix XOR (the tests run each
/// against the portable ones) and table. Always inlined, so that the AVX-512 path compiles all of
/// it with its features.
#[allow(clippy::inline_always)]
#[inline(always)]
fn index_with(
    text: &[u8],
    classify_block: impl Fn(&[u8; 64]) -> Masks,
    prefix_xor: impl Fn(u64) -> u64,
    table: &Table,
) -> Option<RecordIndex> {
    let mut scanner = Scanner::default();
    // The state, as the offset of its row in the table.
    let mut row = row_of(State::Start);
    // The containers open inside the current record, innermost last, each as what it was opened
    // in; the record itself is not on it.
    let mut stack: Vec<Step> = Vec::with_capacity(16);
    let mut index = RecordIndex::default();
    let mut record_start = 0;
    // Where the last number or literal ends: its bytes after the first are not tokens.
    let mut scalar_end = 0usize;
    let mut first_non_ascii = None;
    let mut padded = [b' '; 64];
    for (block_index, chunk) in text.chunks(64).enumerate() {
        let base = block_index * 64;
        let bytes: &[u8; 64] = if let Ok(full) = chunk.try_into() {
            full
        } else {
            // The last, short block, padded with spaces (whitespace, outside strings).
            padded[..chunk.len()].copy_from_slice(chunk);
            &padded
        };
        let masks = classify_block(bytes);
        let strings = scanner.strings(masks.quote, masks.backslash, &prefix_xor);
        // Inside strings: no control character, and only the escapes JSON has.
        if masks.control & strings.inside != 0 {
            return None;
        }
        let mut escapes = strings.escapes & strings.inside;
        while escapes != 0 {
            let bit = escapes.trailing_zeros();
            escapes &= escapes - 1;
            if !valid_escape(text, base + bit as usize) {
                return None;
            }
        }
        if masks.non_ascii != 0 && first_non_ascii.is_none() {
            first_non_ascii = Some(base);
        }
        // Every byte outside strings is a token, and each string's opening quote.
        let mut tokens = !strings.inside & !strings.quotes | (strings.quotes & strings.inside);
        tokens &= !bits_below(scalar_end.saturating_sub(base));
        let class = |bit: u32| CLASSES[bytes[bit as usize] as usize] as usize;
        while tokens != 0 {
            let bit = tokens.trailing_zeros();
            tokens &= tokens - 1;
            // Two tokens a step, the one load that depends on the state: most tokens are the
            // quotes, colons and commas of `"key":"value",`, which do nothing but change it.
            let first = class(bit) * PAIR_STRIDE;
            let second = if tokens == 0 {
                ALONE
            } else {
                class(tokens.trailing_zeros())
            };
            let step = table[row + first + second];
            if step <= ROW_MASK {
                row = usize::from(step);
                tokens &= tokens.wrapping_sub(1);
                continue;
            }
            // The first token alone, and what it does besides.
            let step = table[row + first + ALONE];
            row = usize::from(step & ROW_MASK);
            if step <= ROW_MASK {
                continue;
            }
            let at = base + bit as usize;
            match step >> ACTION_SHIFT {
                SCALAR => {
                    scalar_end = valid_scalar_end(text, at)?;
                    tokens &= !bits_below(scalar_end - base);
                }
                FIELD => index.keys.push(at),
                PUSH_IN_OBJECT | PUSH_IN_ARRAY | PUSH_IN_RECORD => stack.push(step >> ACTION_SHIFT),
                POP => {
                    row = row_of(match stack.pop()? {
                        PUSH_IN_OBJECT => State::ObjectNext,
                        PUSH_IN_ARRAY => State::ArrayNext,
                        _ => State::RecordNext,
                    });
                }
                RECORD_START => record_start = at,
                RECORD_END => {
                    index.spans.push(record_start..at + 1);
                    index.key_ends.push(index.keys.len());
                }
                _ => {
                    // The envelope's only key.
                    if !text[at..].starts_with(b"\"Records\"") {
                        return None;
                    }
                }
            }
        }
        if row == row_of(State::Fault) {
            return None;
        }
    }
    if scanner.in_string || row != row_of(State::End) {
        return None;
    }
    // The blocks before the first non-ASCII byte are ASCII, so it starts a character.
    if let Some(from) = first_non_ascii {
        std::str::from_utf8(&text[from..]).ok()?;
    }
    Some(index)
}

/// Bits `0..n` of a block (all of them from 64 on).
fn bits_below(n: usize) -> u64 {
    u32::try_from(n)
        .ok()
        .and_then(|n| 1u64.checked_shl(n))
        .map_or(u64::MAX, |bit| bit - 1)
}

/// Whether the backslash at `at`, inside a string, starts one of JSON's escapes.
fn valid_escape(text: &[u8], at: usize) -> bool {
    match text.get(at + 1) {
        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => true,
        Some(b'u') => text
            .get(at + 2..at + 6)
            .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)),
        _ => false,
    }
}

/// The end of the number or literal starting at `at`, when it is one as JSON spells it and all of
/// the run of non-separator bytes it starts.
fn valid_scalar_end(text: &[u8], at: usize) -> Option<usize> {
    let literal = |word: &[u8]| text[at..].starts_with(word).then_some(at + word.len());
    let end = match text[at] {
        b't' => literal(b"true"),
        b'f' => literal(b"false"),
        b'n' => literal(b"null"),
        _ => number_end(text, at),
    }?;
    matches!(
        text.get(end).map(|&b| CLASSES[b as usize]),
        None | Some(
            Class::Whitespace
                | Class::Quote
                | Class::Colon
                | Class::Comma
                | Class::OpenBrace
                | Class::OpenBracket
                | Class::CloseBrace
                | Class::CloseBracket
        )
    )
    .then_some(end)
}

/// The end of `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?` starting at `at`.
fn number_end(text: &[u8], mut at: usize) -> Option<usize> {
    let digits = |from: usize| {
        from + text.get(from..).map_or(0, |rest| {
            rest.iter().take_while(|b| b.is_ascii_digit()).count()
        })
    };
    if text[at] == b'-' {
        at += 1;
    }
    at = match text.get(at) {
        Some(b'0') => at + 1,
        Some(b'1'..=b'9') => digits(at + 1),
        _ => return None,
    };
    if text.get(at) == Some(&b'.') {
        let end = digits(at + 1);
        if end == at + 1 {
            return None;
        }
        at = end;
    }
    if matches!(text.get(at), Some(b'e' | b'E')) {
        at += 1;
        if matches!(text.get(at), Some(b'+' | b'-')) {
            at += 1;
        }
        let end = digits(at);
        if end == at {
            return None;
        }
        at = end;
    }
    Some(at)
}

/// What a token is, to the grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    OpenBrace,
    OpenBracket,
    CloseBrace,
    CloseBracket,
    Colon,
    Comma,
    /// A string's opening quote.
    Quote,
    /// The first byte of a number or literal.
    Scalar,
    Whitespace,
    /// Nothing JSON has outside strings.
    Other,
}

const CLASS_COUNT: usize = 10;

static CLASSES: [Class; 256] = {
    let mut classes = [Class::Other; 256];
    classes[b'{' as usize] = Class::OpenBrace;
    classes[b'[' as usize] = Class::OpenBracket;
    classes[b'}' as usize] = Class::CloseBrace;
    classes[b']' as usize] = Class::CloseBracket;
    classes[b':' as usize] = Class::Colon;
    classes[b',' as usize] = Class::Comma;
    classes[b'"' as usize] = Class::Quote;
    classes[b' ' as usize] = Class::Whitespace;
    classes[b'\t' as usize] = Class::Whitespace;
    classes[b'\n' as usize] = Class::Whitespace;
    classes[b'\r' as usize] = Class::Whitespace;
    classes[b'-' as usize] = Class::Scalar;
    classes[b't' as usize] = Class::Scalar;
    classes[b'f' as usize] = Class::Scalar;
    classes[b'n' as usize] = Class::Scalar;
    let mut digit = b'0';
    while digit <= b'9' {
        classes[digit as usize] = Class::Scalar;
        digit += 1;
    }
    classes
};

/// Where the grammar stands: what the next token may be. The envelope has states of its own, so
/// that its shape (an object whose only key is `"Records"`, an array, objects in it) is checked
/// by the same table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// A token that cannot stand where it is was read.
    Fault,
    /// Before the envelope's `{`.
    Start,
    /// After the envelope's `{`: the key `"Records"`.
    EnvelopeKey,
    EnvelopeColon,
    /// The Records array's `[`.
    EnvelopeValue,
    /// After the Records array's `[`: a record or `]`.
    FirstRecord,
    /// After a `,` between records.
    Record,
    /// After a record: `,` or `]`.
    RecordsNext,
    /// In a record's own object, after its `{`: a key or `}`.
    RecordFirstKey,
    /// In a record's object, after `,`.
    RecordKey,
    RecordColon,
    /// In a record's object, after `:`.
    RecordValue,
    /// In a record's object, after a value: `,` or `}`.
    RecordNext,
    /// After the Records array: the envelope's `}`.
    EnvelopeClose,
    /// After the envelope: only whitespace.
    End,
    /// In an object, after `{`: a key or `}`.
    FirstKey,
    /// In an object, after `,`.
    Key,
    Colon,
    /// In an object, after `:`.
    ObjectValue,
    /// In an object, after a value: `,` or `}`.
    ObjectNext,
    /// In an array, after `[`: a value or `]`.
    FirstElement,
    /// In an array, after `,`.
    Element,
    /// In an array, after a value: `,` or `]`.
    ArrayNext,
}

const STATE_COUNT: usize = 23;

/// A state's steps are indexed by the class of a token and the class of the one after it, or
/// [`ALONE`] for the token alone.
const PAIR_STRIDE: usize = CLASS_COUNT + 1;
const ALONE: usize = CLASS_COUNT;
const ROW_LEN: usize = CLASS_COUNT * PAIR_STRIDE;

/// The offset of a state's row in [`TRANSITIONS`].
const fn row_of(state: State) -> usize {
    state as usize * ROW_LEN
}

/// A step of [`TRANSITIONS`]: the next state's row in the low bits, what to do besides above
/// them.
type Step = u16;
/// Every state's row of steps.
type Table = [Step; STATE_COUNT * ROW_LEN];
const ROW_MASK: Step = 0x0fff;
const ACTION_SHIFT: u32 = 12;
/// Read the number or literal starting here.
const SCALAR: Step = 1;
/// A container opens inside a record, in an object, in an array or as a value of the record's
/// own object.
const PUSH_IN_OBJECT: Step = 2;
const PUSH_IN_ARRAY: Step = 3;
const PUSH_IN_RECORD: Step = 7;
/// A container closes: the state is the enclosing one's.
const POP: Step = 4;
const RECORD_START: Step = 5;
/// The record's object closes.
const RECORD_END: Step = 8;
/// A key of the record's own object.
const FIELD: Step = 9;
/// The envelope's key must be `"Records"`.
const RECORDS_KEY: Step = 6;
/// Two tokens that cannot be taken in one step: one of them acts, or the first is a fault.
const NOT_A_PAIR: Step = 0xf;

/// The grammar: for each state's row, the step each class of token takes alone, and each pair of
/// them (see [`PAIR_STRIDE`]). Every step not set is to [`State::Fault`], whose row leads nowhere
/// else.
static TRANSITIONS: Table = transitions(false);
/// The same grammar, with the keys of each record's object indexed ([`FIELD`]).
static TRANSITIONS_KEYED: Table = transitions(true);

/// The table, built at compile time. Without `index_keys` a record's keys act on nothing and
/// so pair with their colons: a scan that only delimits records takes half the steps.
const fn transitions(index_keys: bool) -> Table {
    const fn set(table: &mut [Step], from: State, class: Class, next: State, action: Step) {
        table[row_of(from) + class as usize * PAIR_STRIDE + ALONE] =
            row_of(next) as Step | action << ACTION_SHIFT;
    }
    use Class as C;
    use State as S;
    let mut table = [row_of(S::Fault) as Step; STATE_COUNT * ROW_LEN];
    // Whitespace changes nothing, anywhere but after a fault.
    let mut state = 1;
    while state < STATE_COUNT {
        table[state * ROW_LEN + C::Whitespace as usize * PAIR_STRIDE + ALONE] =
            (state * ROW_LEN) as Step;
        state += 1;
    }
    // The envelope.
    set(&mut table, S::Start, C::OpenBrace, S::EnvelopeKey, 0);
    set(
        &mut table,
        S::EnvelopeKey,
        C::Quote,
        S::EnvelopeColon,
        RECORDS_KEY,
    );
    set(&mut table, S::EnvelopeColon, C::Colon, S::EnvelopeValue, 0);
    set(
        &mut table,
        S::EnvelopeValue,
        C::OpenBracket,
        S::FirstRecord,
        0,
    );
    set(
        &mut table,
        S::FirstRecord,
        C::OpenBrace,
        S::RecordFirstKey,
        RECORD_START,
    );
    set(
        &mut table,
        S::FirstRecord,
        C::CloseBracket,
        S::EnvelopeClose,
        0,
    );
    set(
        &mut table,
        S::Record,
        C::OpenBrace,
        S::RecordFirstKey,
        RECORD_START,
    );
    set(&mut table, S::RecordsNext, C::Comma, S::Record, 0);
    set(
        &mut table,
        S::RecordsNext,
        C::CloseBracket,
        S::EnvelopeClose,
        0,
    );
    set(&mut table, S::EnvelopeClose, C::CloseBrace, S::End, 0);
    // A record's own object, whose keys may be indexed.
    let field = if index_keys { FIELD } else { 0 };
    set(
        &mut table,
        S::RecordFirstKey,
        C::Quote,
        S::RecordColon,
        field,
    );
    set(
        &mut table,
        S::RecordFirstKey,
        C::CloseBrace,
        S::RecordsNext,
        RECORD_END,
    );
    set(&mut table, S::RecordKey, C::Quote, S::RecordColon, field);
    set(&mut table, S::RecordColon, C::Colon, S::RecordValue, 0);
    set(&mut table, S::RecordNext, C::Comma, S::RecordKey, 0);
    set(
        &mut table,
        S::RecordNext,
        C::CloseBrace,
        S::RecordsNext,
        RECORD_END,
    );
    // Objects.
    set(&mut table, S::FirstKey, C::Quote, S::Colon, 0);
    set(&mut table, S::FirstKey, C::CloseBrace, S::Fault, POP);
    set(&mut table, S::Key, C::Quote, S::Colon, 0);
    set(&mut table, S::Colon, C::Colon, S::ObjectValue, 0);
    set(&mut table, S::ObjectNext, C::Comma, S::Key, 0);
    set(&mut table, S::ObjectNext, C::CloseBrace, S::Fault, POP);
    // Arrays.
    set(&mut table, S::FirstElement, C::CloseBracket, S::Fault, POP);
    set(&mut table, S::ArrayNext, C::Comma, S::Element, 0);
    set(&mut table, S::ArrayNext, C::CloseBracket, S::Fault, POP);
    // Values, in an object and in an array.
    let values = [
        (S::RecordValue, S::RecordNext, PUSH_IN_RECORD),
        (S::ObjectValue, S::ObjectNext, PUSH_IN_OBJECT),
        (S::FirstElement, S::ArrayNext, PUSH_IN_ARRAY),
        (S::Element, S::ArrayNext, PUSH_IN_ARRAY),
    ];
    let mut i = 0;
    while i < values.len() {
        let (from, next, push) = values[i];
        set(&mut table, from, C::Quote, next, 0);
        set(&mut table, from, C::Scalar, next, SCALAR);
        set(&mut table, from, C::OpenBrace, S::FirstKey, push);
        set(&mut table, from, C::OpenBracket, S::FirstElement, push);
        i += 1;
    }
    // Pairs: the two steps in one where neither acts.
    let mut row = 0;
    while row < STATE_COUNT * ROW_LEN {
        let mut first = 0;
        while first < CLASS_COUNT {
            let step = table[row + first * PAIR_STRIDE + ALONE];
            let mut second = 0;
            while second < CLASS_COUNT {
                let then = table[(step & ROW_MASK) as usize + second * PAIR_STRIDE + ALONE];
                table[row + first * PAIR_STRIDE + second] =
                    if step > ROW_MASK || then > ROW_MASK || step == row_of(S::Fault) as Step {
                        NOT_A_PAIR << ACTION_SHIFT
                    } else {
                        then
                    };
                second += 1;
            }
            first += 1;
        }
        row += ROW_LEN;
    }
    table
}

/// One bit per byte of a 64-byte block.
#[derive(Debug, PartialEq, Eq)]
struct Masks {
    quote: u64,
    backslash: u64,
    /// Below 0x20: forbidden in strings (outside them, the table reads each).
    control: u64,
    /// 0x80 and above: part of a multi-byte UTF-8 sequence, to be validated.
    non_ascii: u64,
}

/// The strings of one block.
struct Strings {
    /// Bytes inside a string, the opening quote included and the closing one not.
    inside: u64,
    /// The quotes that open or close a string.
    quotes: u64,
    /// The backslashes that start an escape (inside a string; outside, a fault).
    escapes: u64,
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
    /// Inlined into each build of the pass, for the same reason as [`index_with`].
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn strings(&mut self, quote: u64, backslash: u64, prefix_xor: &impl Fn(u64) -> u64) -> Strings {
        let mut escaped = u64::from(self.escape_carry);
        self.escape_carry = false;
        let mut escapes = 0;
        // Backslashes are rare in trails; a run of them is resolved left to right.
        let mut pending = backslash;
        while pending != 0 {
            let bit = pending.trailing_zeros();
            pending &= pending - 1;
            if escaped & (1 << bit) != 0 {
                continue;
            }
            escapes |= 1 << bit;
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
        Strings {
            inside,
            quotes,
            escapes,
        }
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
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };
    // SAFETY: SSE2 is part of the x86_64 baseline; the loads read 16 bytes within the block.
    unsafe {
        let lanes: [__m128i; 4] =
            std::array::from_fn(|lane| _mm_loadu_si128(block.as_ptr().add(lane * 16).cast()));
        let bits = |lane: usize, m: __m128i| u64::from(_mm_movemask_epi8(m) as u16) << (lane * 16);
        let eq = |chunk: __m128i, byte: u8| _mm_cmpeq_epi8(chunk, _mm_set1_epi8(byte as i8));
        // Unsigned: min(byte, 0x1f) == byte exactly when byte < 0x20.
        let control =
            |chunk: __m128i| _mm_cmpeq_epi8(_mm_min_epu8(chunk, _mm_set1_epi8(0x1f)), chunk);
        let mut masks = Masks {
            quote: 0,
            backslash: 0,
            control: 0,
            non_ascii: 0,
        };
        let mut any_control = _mm_set1_epi8(0);
        let mut any_non_ascii = _mm_set1_epi8(0);
        for (lane, &chunk) in lanes.iter().enumerate() {
            masks.quote |= bits(lane, eq(chunk, b'"'));
            masks.backslash |= bits(lane, eq(chunk, b'\\'));
            any_control = _mm_or_si128(any_control, control(chunk));
            any_non_ascii = _mm_or_si128(any_non_ascii, chunk);
        }
        // Control characters (newlines, mostly) and non-ASCII bytes are rare in trails: one test
        // for the block, and their masks only when there are any.
        if _mm_movemask_epi8(any_control) != 0 {
            for (lane, &chunk) in lanes.iter().enumerate() {
                masks.control |= bits(lane, control(chunk));
            }
        }
        if _mm_movemask_epi8(any_non_ascii) != 0 {
            for (lane, &chunk) in lanes.iter().enumerate() {
                masks.non_ascii |= bits(lane, chunk);
            }
        }
        masks
    }
}

/// The AVX-512 build of the pass: its classifier and prefix XOR, and [`index_with`] compiled with
/// them.
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::{
        _mm_clmulepi64_si128, _mm_cvtsi128_si64, _mm_set_epi64x, _mm_set1_epi8,
        _mm512_cmpeq_epi8_mask, _mm512_cmplt_epu8_mask, _mm512_loadu_si512, _mm512_movepi8_mask,
        _mm512_set1_epi8,
    };

    use super::{Masks, RecordIndex, Table, index_with};

    /// Whether this processor has what [`index`] is compiled for (the answer is cached by std).
    pub(super) fn available() -> bool {
        std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("pclmulqdq")
    }

    /// [`index_with`] with this module's classifier and prefix XOR.
    ///
    /// # Safety
    /// The processor must have AVX-512BW and PCLMULQDQ ([`available`]).
    #[target_feature(enable = "avx512bw,pclmulqdq")]
    pub(super) unsafe fn index(text: &[u8], table: &Table) -> Option<RecordIndex> {
        index_with(text, |block| classify(block), |x| prefix_xor(x), table)
    }

    /// A block's masks, one compare each.
    #[target_feature(enable = "avx512bw")]
    pub(super) fn classify(block: &[u8; 64]) -> Masks {
        // SAFETY: the load reads the block's 64 bytes, unaligned.
        let chunk = unsafe { _mm512_loadu_si512(block.as_ptr().cast()) };
        Masks {
            quote: _mm512_cmpeq_epi8_mask(chunk, _mm512_set1_epi8(b'"' as i8)),
            backslash: _mm512_cmpeq_epi8_mask(chunk, _mm512_set1_epi8(b'\\' as i8)),
            control: _mm512_cmplt_epu8_mask(chunk, _mm512_set1_epi8(0x20)),
            non_ascii: _mm512_movepi8_mask(chunk),
        }
    }

    /// [`super::prefix_xor`] as one carry-less multiplication by all ones.
    #[target_feature(enable = "pclmulqdq")]
    pub(super) fn prefix_xor(x: u64) -> u64 {
        let product = _mm_clmulepi64_si128(_mm_set_epi64x(0, x as i64), _mm_set1_epi8(-1), 0);
        _mm_cvtsi128_si64(product) as u64
    }
}

/// The portable classifier, compiled on every target: on x86_64 only the tests call it, to check
/// the SSE2 path against it.
#[cfg_attr(all(target_arch = "x86_64", not(test)), allow(dead_code))]
fn classify_scalar(block: &[u8; 64]) -> Masks {
    let mut masks = Masks {
        quote: 0,
        backslash: 0,
        control: 0,
        non_ascii: 0,
    };
    for (i, &byte) in block.iter().enumerate() {
        let bit = 1u64 << i;
        match byte {
            b'"' => masks.quote |= bit,
            b'\\' => masks.backslash |= bit,
            0..0x20 => masks.control |= bit,
            0x80.. => masks.non_ascii |= bit,
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
    fn delimits_records_holding_every_kind_of_value() {
        let text = "{ \"Records\" :\t[ {\"n\": [0, -0, 12, -1.5e+3, 2E-7, 3.25, true, false, null, \
                    {}, [], [[]], \"\\u00e9\\/\\b\\f\\n\\r\\t\", \"é\"]}\r\n,\n{ } ]\n}\n";
        assert_eq!(records(text).unwrap().len(), 2, "{text}");
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
            // Faults inside a record, which a query may skip unparsed.
            r#"{"Records":[{"a":1,,"b":2}]}"#,
            r#"{"Records":[{"a":tru}]}"#,
            r#"{"Records":[{"a":01}]}"#,
            r#"{"Records":[{"a":1.}]}"#,
            r#"{"Records":[{"a":-}]}"#,
            r#"{"Records":[{"a" "b"}]}"#,
            r#"{"Records":[{"a":"b":"c"}]}"#,
            r#"{"Records":[{"a":["b":1]}]}"#,
            r#"{"Records":[{"a":[1,]}]}"#,
            r#"{"Records":[{"a":"\q"}]}"#,
            r#"{"Records":[{"a":"\u12"}]}"#,
            "{\"Records\":[{\"a\":\"\u{1}\"}]}",
            "{\"Records\":[{\"a\":1}]}\u{c}",
            r#"{"Records":[{"a":1} x]}"#,
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

    /// The splitter against serde_json: on generated envelopes it finds exactly the records
    /// serde_json finds; on damaged copies of them it finds them or declines, and never delimits
    /// text serde_json rejects.
    mod properties {
        use std::fmt::Write;

        use proptest::prelude::*;
        use serde_json::value::RawValue;

        use super::super::*;

        #[derive(serde::Deserialize)]
        struct Envelope<'a> {
            #[serde(rename = "Records", borrow)]
            records: Vec<&'a RawValue>,
        }

        /// The keys of a record's object as serde_json reads them, in order, repeats kept.
        fn serde_keys(record: &[u8]) -> Option<Vec<String>> {
            serde_json::from_slice::<crate::decode::TopLevelKeys>(record)
                .ok()
                .map(|keys| keys.keys)
        }

        /// The records serde_json finds, as ranges of `text`; `None` when it rejects the text.
        fn serde_spans(text: &[u8]) -> Option<Vec<Range<usize>>> {
            let envelope: Envelope = serde_json::from_slice(text).ok()?;
            Some(
                envelope
                    .records
                    .iter()
                    .map(|raw| {
                        let start = raw.get().as_ptr() as usize - text.as_ptr() as usize;
                        start..start + raw.get().len()
                    })
                    .collect(),
            )
        }

        fn json_ws(text: &[u8]) -> &[u8] {
            let end = text
                .iter()
                .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
                .unwrap_or(text.len());
            &text[end..]
        }

        /// Whether text serde_json reads as `spans` is exactly the shape the splitter delimits:
        /// `{"Records":[...]}` with that key written so, no other key, objects for records.
        fn is_plain_envelope(text: &[u8], spans: &[Range<usize>]) -> bool {
            let head = (|| {
                let rest = json_ws(text).strip_prefix(b"{")?;
                let rest = json_ws(rest).strip_prefix(b"\"Records\"")?;
                let rest = json_ws(rest).strip_prefix(b":")?;
                json_ws(rest).strip_prefix(b"[")
            })();
            let Some(head) = head else { return false };
            let tail_from = spans
                .last()
                .map_or(text.len() - head.len(), |span| span.end);
            let tail = json_ws(&text[tail_from..])
                .strip_prefix(b"]")
                .map(json_ws)
                .and_then(|rest| rest.strip_prefix(b"}"))
                .map(json_ws);
            tail == Some(b"") && spans.iter().all(|span| text[span.start] == b'{')
        }

        /// A JSON value, with how each of its strings and numbers is written.
        #[derive(Debug, Clone)]
        enum Json {
            Literal(&'static str),
            Number(String),
            String(Vec<(char, u8)>),
            Array(Vec<Json>),
            Object(Vec<(Vec<(char, u8)>, Json)>),
        }

        /// Characters for strings: those the splitter must see past (quotes, backslashes,
        /// brackets, controls), letters, and any character at all.
        fn string_char() -> impl Strategy<Value = char> {
            prop_oneof![
                4 => prop::sample::select(vec!['"', '\\', '{', '}', '[', ']', ',', ':', '/']),
                2 => prop::sample::select(vec!['\n', '\t', '\u{0}', '\u{1f}', '\u{7f}']),
                4 => prop::char::range('a', 'z'),
                2 => prop::sample::select(vec!['é', '€', '\u{2028}', '😀', '\u{10ffff}']),
                1 => any::<char>(),
            ]
        }

        /// A string's characters, each with a choice of how to write it.
        fn json_string() -> impl Strategy<Value = Vec<(char, u8)>> {
            prop::collection::vec((string_char(), any::<u8>()), 0..40)
        }

        fn json_number() -> impl Strategy<Value = String> {
            proptest::string::string_regex(
                "-?(0|[1-9][0-9]{0,12})(\\.[0-9]{1,6})?([eE][+-]?[0-9]{1,3})?",
            )
            .expect("a valid pattern")
        }

        fn json_value() -> impl Strategy<Value = Json> {
            let leaf = prop_oneof![
                prop::sample::select(vec!["true", "false", "null"]).prop_map(Json::Literal),
                json_number().prop_map(Json::Number),
                json_string().prop_map(Json::String),
            ];
            leaf.prop_recursive(5, 48, 6, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..6).prop_map(Json::Array),
                    prop::collection::vec((json_string(), inner), 0..6).prop_map(Json::Object),
                ]
            })
        }

        fn json_record() -> impl Strategy<Value = Json> {
            prop::collection::vec((json_string(), json_value()), 0..8).prop_map(Json::Object)
        }

        /// Writes JSON text with the whitespace `ws` picks between tokens.
        struct Writer<'a> {
            out: String,
            ws: &'a [u8],
            next_ws: usize,
        }

        impl Writer<'_> {
            fn ws(&mut self) {
                let pick = self.ws.get(self.next_ws).copied().unwrap_or(0);
                self.next_ws += 1;
                self.out.push_str(match pick % 12 {
                    0 => " ",
                    1 => "\n",
                    2 => "\t",
                    3 => "\r\n    ",
                    _ => "",
                });
            }

            fn string(&mut self, chars: &[(char, u8)]) {
                self.out.push('"');
                for &(c, how) in chars {
                    let short = match c {
                        '"' => Some("\\\""),
                        '\\' => Some("\\\\"),
                        '/' => Some("\\/"),
                        '\u{8}' => Some("\\b"),
                        '\u{c}' => Some("\\f"),
                        '\n' => Some("\\n"),
                        '\r' => Some("\\r"),
                        '\t' => Some("\\t"),
                        _ => None,
                    };
                    let must_escape = matches!(c, '"' | '\\') || c < ' ';
                    match (how % 3, short) {
                        (0, Some(short)) => self.out.push_str(short),
                        (1, _) | (_, None) if must_escape || how % 3 == 1 => {
                            // A \u escape, a surrogate pair beyond the BMP, in either case.
                            let mut units = [0u16; 2];
                            for unit in c.encode_utf16(&mut units) {
                                if how & 4 == 0 {
                                    write!(self.out, "\\u{unit:04x}").unwrap();
                                } else {
                                    write!(self.out, "\\u{unit:04X}").unwrap();
                                }
                            }
                        }
                        _ if must_escape => self.out.push_str(short.expect("escaped above")),
                        _ => self.out.push(c),
                    }
                }
                self.out.push('"');
            }

            fn value(&mut self, value: &Json) {
                match value {
                    Json::Literal(word) => self.out.push_str(word),
                    Json::Number(number) => self.out.push_str(number),
                    Json::String(chars) => self.string(chars),
                    Json::Array(items) => {
                        self.out.push('[');
                        for (i, item) in items.iter().enumerate() {
                            self.ws();
                            if i > 0 {
                                self.out.push(',');
                                self.ws();
                            }
                            self.value(item);
                        }
                        self.ws();
                        self.out.push(']');
                    }
                    Json::Object(members) => {
                        self.out.push('{');
                        for (i, (key, item)) in members.iter().enumerate() {
                            self.ws();
                            if i > 0 {
                                self.out.push(',');
                                self.ws();
                            }
                            self.string(key);
                            self.ws();
                            self.out.push(':');
                            self.ws();
                            self.value(item);
                        }
                        self.ws();
                        self.out.push('}');
                    }
                }
            }
        }

        /// An envelope of `records`, with the ranges each record was written to.
        fn envelope(records: &[Json], ws: &[u8], indent: usize) -> (Vec<u8>, Vec<Range<usize>>) {
            let mut w = Writer {
                out: " ".repeat(indent),
                ws,
                next_ws: 0,
            };
            let mut spans = Vec::new();
            w.out.push('{');
            w.ws();
            w.out.push_str("\"Records\"");
            w.ws();
            w.out.push(':');
            w.ws();
            w.out.push('[');
            for (i, record) in records.iter().enumerate() {
                w.ws();
                if i > 0 {
                    w.out.push(',');
                    w.ws();
                }
                let start = w.out.len();
                w.value(record);
                spans.push(start..w.out.len());
            }
            w.ws();
            w.out.push(']');
            w.ws();
            w.out.push('}');
            w.ws();
            (w.out.into_bytes(), spans)
        }

        fn generated_envelope() -> impl Strategy<Value = (Vec<u8>, Vec<Range<usize>>)> {
            (
                prop::collection::vec(json_record(), 0..6),
                prop::collection::vec(any::<u8>(), 0..400),
                0..64usize,
            )
                .prop_map(|(records, ws, indent)| envelope(&records, &ws, indent))
        }

        /// The splitter's answer on `text`, checked against serde_json's and the portable
        /// classifier's.
        fn check(text: &[u8]) -> Result<Option<Vec<Range<usize>>>, TestCaseError> {
            let found = record_spans(text);
            prop_assert_eq!(
                &found,
                &spans_with(text, classify_scalar),
                "classifiers disagree"
            );
            let serde = serde_spans(text);
            if let Some(found) = &found {
                prop_assert_eq!(
                    Some(found),
                    serde.as_ref(),
                    "delimited what serde_json reads otherwise"
                );
                let index = record_index(text);
                prop_assert_eq!(
                    index.as_ref().map(|index| &index.spans),
                    Some(found),
                    "indexing keys delimits otherwise"
                );
                let index = index.expect("delimited above");
                for (i, span) in found.iter().enumerate() {
                    let (_, keys) = index.record(i);
                    // Keys holding an unpaired surrogate escape (which reading repairs first)
                    // are not strings to serde_json: such records are not compared.
                    let Some(expected) = serde_keys(&text[span.clone()]) else {
                        continue;
                    };
                    let indexed: Vec<String> = keys
                        .iter()
                        .map(|&at| {
                            serde_json::Deserializer::from_slice(&text[at..])
                                .into_iter::<String>()
                                .next()
                                .expect("a key")
                                .expect("a JSON string")
                        })
                        .collect();
                    prop_assert_eq!(indexed, expected, "keys of record {}", i);
                }
            } else if let Some(serde) = &serde {
                prop_assert!(
                    !is_plain_envelope(text, serde),
                    "declined a plain envelope serde_json reads"
                );
            }
            Ok(found)
        }

        proptest! {
            #![proptest_config(ctq_testkit::proptest_config(2000))]

            #[test]
            fn finds_exactly_the_records_serde_json_finds(
                (text, written) in generated_envelope()
            ) {
                let found = check(&text)?;
                prop_assert_eq!(found, Some(written));
            }

            #[test]
            fn damage_is_delimited_as_serde_json_reads_it_or_declined(
                (mut text, _) in generated_envelope(),
                edits in prop::collection::vec(ctq_testkit::byte_edit(), 1..4),
            ) {
                for edit in &edits {
                    ctq_testkit::apply_edit(&mut text, edit);
                }
                check(&text)?;
            }
        }
    }

    /// The SSE2 and AVX-512 classifiers checked against the scalar one they stand for, and the
    /// pass as dispatched (AVX-512 where the processor has it) against the portable pass.
    #[cfg(target_arch = "x86_64")]
    mod simd_against_scalar {
        use super::super::*;

        /// AVX-512's classifier, when this processor has it.
        fn classify_avx512(block: &[u8; 64]) -> Option<Masks> {
            // SAFETY: called only once the processor is known to have AVX-512BW.
            avx512::available().then(|| unsafe { avx512::classify(block) })
        }

        /// Says, once per test, that the AVX-512 path was not checked here.
        fn note_without_avx512() {
            use std::io::Write;
            if !avx512::available() {
                let thread = std::thread::current();
                let _ = writeln!(
                    std::io::stderr().lock(),
                    "{}: this processor has no AVX-512BW; only SSE2 was checked",
                    thread.name().unwrap_or("a test")
                );
            }
        }

        #[test]
        fn carry_less_prefix_xor_is_the_shifted_one() {
            note_without_avx512();
            if !avx512::available() {
                return;
            }
            let mut noise = Noise(0x2545_f491_4f6c_dd1d);
            let edges = [
                0,
                1,
                1 << 63,
                u64::MAX,
                0x5555_5555_5555_5555,
                0x8000_0000_0000_0001,
            ];
            for x in edges.into_iter().chain((0..100_000).map(|_| noise.next())) {
                // SAFETY: the processor has PCLMULQDQ (`available`).
                assert_eq!(unsafe { avx512::prefix_xor(x) }, prefix_xor(x), "{x:#x}");
            }
        }

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
            let scalar = classify_scalar(block);
            assert_eq!(classify_sse2(block), scalar, "{block:?}");
            if let Some(avx512) = classify_avx512(block) {
                assert_eq!(avx512, scalar, "AVX-512: {block:?}");
            }
        }

        #[test]
        fn the_simd_classifiers_agree_with_the_scalar_one() {
            note_without_avx512();
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
                assert_eq!(record_spans(text.as_bytes()), sse2, "dispatched: {text}");
                let found: Vec<&str> = sse2.unwrap().into_iter().map(|r| &text[r]).collect();
                assert_eq!(found, expected);
            }
            // Noise that is rarely an envelope: the same answer from both, whatever it is.
            for len in 0..400 {
                let mut text = b"{\"Records\":[".to_vec();
                text.extend((0..len).map(|_| noise.byte()));
                let scalar = spans_with(&text, classify_scalar);
                assert_eq!(spans_with(&text, classify_sse2), scalar);
                assert_eq!(record_spans(&text), scalar, "dispatched");
            }
        }

        /// The real trails of `../shared/realdata`, when present: every block, at several
        /// alignments, classified alike, and every file delimited alike.
        #[test]
        fn the_simd_classifiers_agree_with_the_scalar_one_on_real_trails() {
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
                        let scalar = classify_scalar(&block);
                        assert_eq!(
                            classify_sse2(&block),
                            scalar,
                            "{}: {block:?}",
                            path.display()
                        );
                        if let Some(avx512) = classify_avx512(&block) {
                            assert_eq!(avx512, scalar, "{}: {block:?}", path.display());
                        }
                    }
                }
                let sse2 = spans_with(&text, classify_sse2);
                let scalar = spans_with(&text, classify_scalar);
                assert_eq!(sse2, scalar, "{}", path.display());
                let dispatched = record_index(&text).map(|index| index.spans);
                assert_eq!(dispatched, scalar, "dispatched: {}", path.display());
                delimited += usize::from(sse2.is_some());
            }
            assert!(
                delimited > 0,
                "no real trail file was an envelope of records"
            );
        }
    }
}
