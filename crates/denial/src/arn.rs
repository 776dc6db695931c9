//! An ARN's parts, as every place that reads one splits it.

/// `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`; the resource keeps any further `:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    /// `None` for text that is not an ARN (fewer than six `:`-separated parts, or no `arn:`).
    pub fn parse(text: &'a str) -> Option<Self> {
        let mut parts = text.strip_prefix("arn:")?.splitn(5, ':');
        Some(Arn {
            partition: parts.next()?,
            service: parts.next()?,
            region: parts.next()?,
            account: parts.next()?,
            resource: parts.next()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parts_of_an_arn() {
        let arn = Arn::parse("arn:aws:sts::111122223333:assumed-role/Admin/jane:x").unwrap();
        assert_eq!(
            (
                arn.partition,
                arn.service,
                arn.region,
                arn.account,
                arn.resource
            ),
            (
                "aws",
                "sts",
                "",
                "111122223333",
                "assumed-role/Admin/jane:x"
            )
        );
        assert_eq!(
            Arn::parse("arn:aws:s3:::bucket/key").unwrap().resource,
            "bucket/key"
        );
        assert_eq!(Arn::parse("config.amazonaws.com"), None);
        assert_eq!(Arn::parse("arn:aws:iam::123"), None);
    }
}
