//! Event IDs as numbers: CloudTrail writes each event's ID as a UUID, whose 128 bits identify it
//! as well as its 36 characters do. Sets of IDs (the store's deduplication, the hunt's second
//! deliveries) hold millions of them; as strings they would cost more than the events they guard.

/// The 128 bits of an event ID written as CloudTrail writes them: a UUID in lowercase hex,
/// `8-4-4-4-12`. `None` for any other ID (hand-written fixtures, uppercase), which the caller
/// hashes instead: only the canonical spelling maps one to one onto the bits, so two IDs that
/// differ as text never share bits.
pub fn uuid_bits(id: &str) -> Option<u128> {
    let bytes = id.as_bytes();
    if bytes.len() != 36 || DASHES.iter().any(|&at| bytes[at] != b'-') {
        return None;
    }
    // Two fixed runs of 16 digits, each gathered into a u64: unrolled, with no branch per digit;
    // a byte that is not a digit sets a high bit, checked once at the end.
    let half = |digits: &[usize]| {
        digits.iter().fold((0u64, 0u8), |(bits, bad), &at| {
            let digit = HEX_DIGIT[usize::from(bytes[at])];
            (bits << 4 | u64::from(digit & 0x0f), bad | digit)
        })
    };
    let (high, bad_high) = half(&DIGITS[..16]);
    let (low, bad_low) = half(&DIGITS[16..]);
    ((bad_high | bad_low) & 0xf0 == 0).then_some(u128::from(high) << 64 | u128::from(low))
}

/// Where a UUID's dashes are.
const DASHES: [usize; 4] = [8, 13, 18, 23];

/// Where its 32 hex digits are, most significant first.
const DIGITS: [usize; 32] = {
    let mut digits = [0; 32];
    let (mut at, mut next) = (0, 0);
    while at < 36 {
        if at != 8 && at != 13 && at != 18 && at != 23 {
            digits[next] = at;
            next += 1;
        }
        at += 1;
    }
    digits
};

/// Each byte's value as a lowercase hex digit; 0xff for any other byte.
const HEX_DIGIT: [u8; 256] = {
    let mut table = [0xff; 256];
    let mut digit = 0;
    while digit < 16 {
        table[b"0123456789abcdef"[digit] as usize] = digit as u8;
        digit += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_canonical_uuid_is_its_128_bits_and_nothing_else_is_read_as_one() {
        assert_eq!(
            uuid_bits("0123abcd-4567-89ef-abcd-0123456789ab"),
            Some(0x0123_abcd_4567_89ef_abcd_0123_4567_89ab)
        );
        for other in [
            "",
            "0123abcd-4567-89ef-abcd-0123456789a",
            "0123abcd-4567-89ef-abcd-0123456789abc",
            "0123abcd+4567-89ef-abcd-0123456789ab",
            "0123abcg-4567-89ef-abcd-0123456789ab",
            "0123ABCD-4567-89ef-abcd-0123456789ab",
            "hand-written-id",
        ] {
            assert_eq!(uuid_bits(other), None, "{other}");
        }
    }

    proptest::proptest! {
        #[test]
        fn every_canonical_uuid_gives_back_its_bits(bits: u128) {
            let hex = format!("{bits:032x}");
            let id = format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..]);
            proptest::prop_assert_eq!(uuid_bits(&id), Some(bits));
            let upper = id.to_uppercase();
            if upper != id {
                proptest::prop_assert_eq!(uuid_bits(&upper), None);
            }
        }
    }
}
