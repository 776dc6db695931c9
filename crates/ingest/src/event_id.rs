//! Event IDs as numbers: CloudTrail writes each event's ID as a UUID, whose 128 bits identify it
//! as well as its 36 characters do. Sets of IDs (the store's deduplication, the hunt's second
//! deliveries) hold millions of them; as strings they would cost more than the events they guard.

/// The 128 bits of an event ID written as CloudTrail writes them: a UUID in lowercase hex,
/// `8-4-4-4-12`. `None` for any other ID (hand-written fixtures, uppercase), which the caller
/// hashes instead: only the canonical spelling maps one to one onto the bits, so two IDs that
/// differ as text never share bits.
pub fn uuid_bits(id: &str) -> Option<u128> {
    let bytes = id.as_bytes();
    if bytes.len() != 36 {
        return None;
    }
    let mut bits = 0u128;
    for (at, &byte) in bytes.iter().enumerate() {
        let digit = match (at, byte) {
            (8 | 13 | 18 | 23, b'-') => continue,
            (8 | 13 | 18 | 23, _) => return None,
            (_, b'0'..=b'9') => byte - b'0',
            (_, b'a'..=b'f') => byte - b'a' + 10,
            _ => return None,
        };
        bits = bits << 4 | u128::from(digit);
    }
    Some(bits)
}

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
}
