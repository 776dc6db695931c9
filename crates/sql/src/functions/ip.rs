//! Trino's `IPADDRESS`: a 16-byte IPv6 address, an IPv4 address stored IPv4-mapped
//! (`::ffff:a.b.c.d`), held here as `FixedSizeBinary(16)`. Byte-wise comparison of that
//! representation is Trino's order (every IPv4 address sorts between `::ffff:0:0` and
//! `::ffff:ffff:ffff`), so DataFusion's own `=`, `<`, `BETWEEN`, `ORDER BY`, `GROUP BY`, `min`
//! and `max` on the column behave as in Trino.
//!
//! `ipaddress(text)` is what `CAST(x AS IPADDRESS)` and `IPADDRESS '10.0.0.1'` become; `contains`
//! tests CIDR membership. The result writers print the type as address text.

use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, FixedSizeBinaryArray};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{DataFusionError, Result, exec_err, plan_err};
use datafusion::logical_expr::type_coercion::binary::comparison_coercion;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::common::{check_arity, constant_text, default_from_new, is_text, text_array};

/// Width in bytes of an `IPADDRESS`.
pub const ADDRESS_BYTES: i32 = 16;

/// The Arrow type of an `IPADDRESS`.
pub fn ipaddress_type() -> DataType {
    DataType::FixedSizeBinary(ADDRESS_BYTES)
}

/// Reads an IPv4 (`10.1.2.3`) or IPv6 (`2001:db8::1`, `::ffff:10.1.2.3`) address as Trino's
/// `CAST(… AS IPADDRESS)` does: no surrounding space, no leading zeros in IPv4 parts, no zone.
pub fn parse_address(text: &str) -> Option<[u8; 16]> {
    match text.parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) => Some(v4.to_ipv6_mapped().octets()),
        IpAddr::V6(v6) => Some(v6.octets()),
    }
}

/// Prints an address as Trino does: an IPv4-mapped address as IPv4 (`10.1.2.3`), any other in
/// RFC 5952 compressed form (`2001:db8::1`). `None` unless `bytes` is 16 long.
pub fn address_text(bytes: &[u8]) -> Option<String> {
    let octets: [u8; 16] = bytes.try_into().ok()?;
    let v6 = Ipv6Addr::from(octets);
    Some(match v6.to_ipv4_mapped() {
        Some(v4) => v4.to_string(),
        None => v6.to_string(),
    })
}

/// A network in CIDR notation, as Trino's `contains(network, address)` reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cidr {
    /// 4 bytes for IPv4 (an IPv4-mapped base counts as IPv4, as in Trino), else 16.
    base: Vec<u8>,
    prefix: usize,
}

impl Cidr {
    /// Parses `10.0.0.0/8` or `2001:db8::/32`. The errors are Trino's messages. An IPv4 network
    /// must have its host bits zero; an IPv6 one need not (Trino checks only IPv4).
    pub fn parse(text: &str) -> std::result::Result<Self, &'static str> {
        let (address, prefix) = text.split_once('/').ok_or("Invalid CIDR")?;
        let base = match address
            .parse::<IpAddr>()
            .map_err(|_| "Invalid network IP address")?
        {
            IpAddr::V4(v4) => v4.octets().to_vec(),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => v4.octets().to_vec(),
                None => v6.octets().to_vec(),
            },
        };
        let prefix: i64 = prefix.parse().map_err(|_| "Invalid prefix length")?;
        let prefix = usize::try_from(prefix).map_err(|_| "Invalid prefix length")?;
        if prefix > base.len() * 8 {
            return Err("Prefix length exceeds address length");
        }
        let cidr = Self { base, prefix };
        if cidr.base.len() == 4 && !cidr.host_bits_zero() {
            return Err("Invalid CIDR");
        }
        Ok(cidr)
    }

    fn host_bits_zero(&self) -> bool {
        (self.prefix..self.base.len() * 8).all(|bit| !Self::bit(&self.base, bit))
    }

    fn bit(bytes: &[u8], bit: usize) -> bool {
        bytes[bit / 8] & (0x80 >> (bit % 8)) != 0
    }

    /// Whether `address` (16 bytes, IPv4 mapped) is in the network. An IPv4 address is never in
    /// an IPv6 network nor the reverse.
    pub fn contains(&self, address: &[u8; 16]) -> bool {
        let v6 = Ipv6Addr::from(*address);
        let bytes: Vec<u8> = match v6.to_ipv4_mapped() {
            Some(v4) => v4.octets().to_vec(),
            None => address.to_vec(),
        };
        bytes.len() == self.base.len()
            && (0..self.prefix).all(|bit| Self::bit(&bytes, bit) == Self::bit(&self.base, bit))
    }
}

/// `ipaddress(text)`: the address, as `FixedSizeBinary(16)`. A column value that is not an
/// address (CloudTrail's `sourceipaddress` is often a service name such as
/// `s3.amazonaws.com`) is NULL; a constant that is not one is an error.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct IpAddress {
    signature: Signature,
}

impl IpAddress {
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for IpAddress {
    fn name(&self) -> &'static str {
        "ipaddress"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        check_arity(self.name(), arg_types, &[1])?;
        match &arg_types[0] {
            t if *t == ipaddress_type() => Ok(vec![t.clone()]),
            t if is_text(t) => Ok(vec![DataType::Utf8]),
            other => plan_err!("ipaddress() takes text, not {other}"),
        }
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(ipaddress_type())
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if let Some(text) = constant_text(&args.args[0])
            && parse_address(text).is_none()
        {
            return exec_err!(
                "ipaddress: {text:?} is not an IP address; write it like 10.0.0.1 or 2001:db8::1"
            );
        }
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        if arrays[0].data_type() == &ipaddress_type() {
            return Ok(ColumnarValue::Array(Arc::clone(&arrays[0])));
        }
        let texts = text_array(&arrays[0])?;
        Ok(ColumnarValue::Array(Arc::new(addresses(
            texts.iter().map(|t| t.and_then(parse_address)),
            texts.len(),
        )?)))
    }
}

/// `ipaddress_text(ipaddress)`: the address as Trino prints it. What `CAST(ip AS VARCHAR)`
/// becomes (see [`crate::ipaddress_cast`]): Arrow has no cast from `FixedSizeBinary` to text.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct IpAddressText {
    signature: Signature,
}

impl IpAddressText {
    pub fn new() -> Self {
        Self {
            signature: Signature::exact(vec![ipaddress_type()], Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for IpAddressText {
    fn name(&self) -> &'static str {
        "ipaddress_text"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let addresses = arrays[0].as_fixed_size_binary();
        let texts: datafusion::arrow::array::StringArray = addresses
            .iter()
            .map(|bytes| bytes.and_then(address_text))
            .collect();
        Ok(ColumnarValue::Array(Arc::new(texts)))
    }
}

fn addresses(
    values: impl Iterator<Item = Option<[u8; 16]>>,
    len: usize,
) -> Result<FixedSizeBinaryArray> {
    let values: Vec<Option<[u8; 16]>> = values.collect();
    if values.iter().all(Option::is_none) {
        // Arrow cannot infer the width from an iterator of nothing but NULLs.
        return Ok(FixedSizeBinaryArray::new_null(ADDRESS_BYTES, len));
    }
    Ok(FixedSizeBinaryArray::try_from_sparse_iter_with_size(
        values.into_iter(),
        ADDRESS_BYTES,
    )?)
}

/// `contains(…)`, one name for three of Trino's functions and DataFusion's, chosen by the
/// argument types:
///
/// - `contains(array, element)`: whether the array holds the element (Trino's
///   `contains(array(T), T)`; DataFusion's `array_has`).
/// - `contains(cidr_text, ipaddress)`: whether the address is in the network
///   (`contains('10.0.0.0/8', ipaddress(sourceipaddress))`). A malformed network is an error
///   with Trino's message; an IPv4 address is never in an IPv6 network nor the reverse.
/// - `contains(text, text)` where the first text is a CIDR network: the same, the second text
///   read as an address, NULL when it is not one (`sourceipaddress` can be a host name). This is
///   what `contains('10.0.0.0/8', sourceipaddress)` means in Athena, where the text is cast to
///   `IPADDRESS` implicitly.
/// - `contains(text, text)` otherwise: DataFusion's substring test, kept so queries written for
///   DataFusion do not break. The choice is made row by row when the first argument is a column.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Contains {
    signature: Signature,
}

impl Contains {
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for Contains {
    fn name(&self) -> &'static str {
        "contains"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        check_arity(self.name(), arg_types, &[2])?;
        let (first, second) = (&arg_types[0], &arg_types[1]);
        match first {
            DataType::List(item) | DataType::LargeList(item) => {
                let common = if second.is_null() {
                    item.data_type().clone()
                } else {
                    comparison_coercion(item.data_type(), second).ok_or_else(|| {
                        DataFusionError::Plan(format!(
                            "contains(): cannot look for {second} in an array of {}",
                            item.data_type()
                        ))
                    })?
                };
                let list = match first {
                    DataType::LargeList(_) => {
                        DataType::LargeList(Arc::new(Field::new_list_field(common.clone(), true)))
                    }
                    _ => DataType::List(Arc::new(Field::new_list_field(common.clone(), true))),
                };
                Ok(vec![list, common])
            }
            t if is_text(t) && *second == ipaddress_type() => {
                Ok(vec![DataType::Utf8, ipaddress_type()])
            }
            t if is_text(t) && is_text(second) => Ok(vec![DataType::Utf8, DataType::Utf8]),
            _ => plan_err!(
                "contains() takes (array, element), (network text, ipaddress) or (text, text), not ({first}, {second})"
            ),
        }
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        match args.args[0].data_type() {
            DataType::List(_) | DataType::LargeList(_) => {
                return datafusion::functions_nested::array_has::array_has_udf()
                    .invoke_with_args(args);
            }
            _ if args.args[1].data_type() == ipaddress_type() => {}
            _ => {
                if let Some(network) = constant_text(&args.args[0])
                    && Cidr::parse(network).is_err()
                {
                    return datafusion::functions::string::contains().invoke_with_args(args);
                }
            }
        }
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let networks = text_array(&arrays[0])?;
        let result: BooleanArray = if arrays[1].data_type() == &ipaddress_type() {
            let addresses = arrays[1].as_fixed_size_binary();
            let mut parsed: Option<(String, Cidr)> = None;
            let mut out = Vec::with_capacity(networks.len());
            for row in 0..networks.len() {
                if networks.is_null(row) || addresses.is_null(row) {
                    out.push(None);
                    continue;
                }
                let network = networks.value(row);
                let cidr = match &parsed {
                    Some((text, cidr)) if text == network => cidr,
                    _ => {
                        let cidr = Cidr::parse(network).map_err(|why| {
                            DataFusionError::Execution(format!(
                                "contains: {why}: {network:?} is not a network like 10.0.0.0/8"
                            ))
                        })?;
                        &parsed.insert((network.to_string(), cidr)).1
                    }
                };
                let address: &[u8; 16] = addresses.value(row).try_into().map_err(|_| {
                    DataFusionError::Internal("an IPADDRESS is not 16 bytes".into())
                })?;
                out.push(Some(cidr.contains(address)));
            }
            out.into_iter().collect()
        } else {
            let texts = text_array(&arrays[1])?;
            networks
                .iter()
                .zip(texts.iter())
                .map(|(network, text)| {
                    let (network, text) = (network?, text?);
                    match Cidr::parse(network) {
                        Ok(cidr) => parse_address(text).map(|a| cidr.contains(&a)),
                        Err(_) => Some(network.contains(text)),
                    }
                })
                .collect()
        };
        Ok(ColumnarValue::Array(Arc::new(result) as ArrayRef))
    }
}

default_from_new!(IpAddress, IpAddressText, Contains);

/// The functions of this module, for [`super::register`].
pub fn functions() -> Vec<ScalarUDF> {
    vec![
        ScalarUDF::new_from_impl(IpAddress::new()),
        ScalarUDF::new_from_impl(IpAddressText::new()),
        ScalarUDF::new_from_impl(Contains::new()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> [u8; 16] {
        parse_address(text).unwrap_or_else(|| panic!("{text} is an address"))
    }

    #[test]
    fn addresses_are_read_and_printed_as_trino_does() {
        let mapped = addr("10.1.2.3");
        assert_eq!(&mapped[..12], &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);
        assert_eq!(&mapped[12..], &[10, 1, 2, 3]);
        assert_eq!(addr("::ffff:10.1.2.3"), mapped);
        assert_eq!(address_text(&mapped).as_deref(), Some("10.1.2.3"));
        for (text, printed) in [
            ("2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
            ("2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1"),
            ("2001:db8::1:0:0:1", "2001:db8::1:0:0:1"),
            ("::1", "::1"),
            ("::", "::"),
            ("fe80:0:0:0:1:0:0:0", "fe80::1:0:0:0"),
            ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2:3:4:5:6"),
        ] {
            assert_eq!(
                address_text(&addr(text)).as_deref(),
                Some(printed),
                "{text}"
            );
        }
        for bad in [
            "s3.amazonaws.com",
            "AWS Internal",
            "010.1.2.3",
            "10.1.2",
            " 10.1.2.3",
            "[::1]",
            "fe80::1%eth0",
            "",
        ] {
            assert_eq!(parse_address(bad), None, "{bad}");
        }
        assert_eq!(address_text(&[1, 2, 3]), None);
        // IPv4 addresses sort together, inside the IPv6 space, as Trino orders them.
        assert!(addr("::1") < addr("0.0.0.1"));
        assert!(addr("9.255.255.255") < addr("10.0.0.0"));
        assert!(addr("255.255.255.255") < addr("2001:db8::"));
    }

    #[test]
    fn networks_contain_what_trino_says_they_contain() {
        let cidr = |t: &str| Cidr::parse(t).unwrap_or_else(|e| panic!("{t}: {e}"));
        assert!(cidr("10.0.0.0/8").contains(&addr("10.255.1.2")));
        assert!(!cidr("10.0.0.0/8").contains(&addr("11.0.0.0")));
        assert!(cidr("0.0.0.0/0").contains(&addr("255.255.255.255")));
        assert!(cidr("127.0.0.1/32").contains(&addr("::ffff:7f00:1")));
        assert!(!cidr("127.0.0.1/32").contains(&addr("127.0.0.2")));
        assert!(cidr("::ffff:7f00:0001/32").contains(&addr("127.0.0.1")));
        assert!(cidr("2001:db8::/32").contains(&addr("2001:db8:ffff::1")));
        assert!(!cidr("2001:db8::/32").contains(&addr("2001:db9::")));
        assert!(cidr("2620:109:c003:104::/64").contains(&addr("2620:109:c003:104::C01")));
        assert!(
            cidr("2001:abcd:ef01:2345:6789:abcd:ef01:234/60")
                .contains(&addr("2001:abcd:ef01:2340::"))
        );
        assert!(cidr("::/0").contains(&addr("2001::")));
        // Versions never mix.
        assert!(!cidr("::/0").contains(&addr("10.0.0.1")));
        assert!(!cidr("0.0.0.0/0").contains(&addr("2001:db8::1")));

        assert_eq!(Cidr::parse("10.0.0.1/8"), Err("Invalid CIDR"));
        assert_eq!(Cidr::parse("10.0.0.0"), Err("Invalid CIDR"));
        assert_eq!(Cidr::parse("x.x.x.x/1"), Err("Invalid network IP address"));
        assert_eq!(Cidr::parse("0.0.0.0/-1"), Err("Invalid prefix length"));
        assert_eq!(
            Cidr::parse("10.0.0.1/33"),
            Err("Prefix length exceeds address length")
        );
        assert_eq!(
            Cidr::parse("2620:109:c006:104::/250"),
            Err("Prefix length exceeds address length")
        );
        assert!(Cidr::parse("arn:aws:iam::123456789012:role/admin").is_err());
    }
}
