//! Starknet protocol versions as blocks report them (`starknet_version`), parsed so that
//! the hash rules of a block can be chosen by comparison.

use std::fmt;
use std::str::FromStr;

/// A Starknet protocol version such as `0.13.1.1`, ordered component by component.
///
/// Blocks report between two and four components. Missing components compare as zero, so
/// `0.13.1` equals `0.13.1.0`. Mainnet blocks before Starknet 0.9.1 report no version at
/// all, and those parse as [`StarknetVersion::OLDEST`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StarknetVersion {
    components: [u16; 4],
}

impl StarknetVersion {
    /// The version of blocks that report none: older than every numbered version.
    pub const OLDEST: Self = Self::new(0, 0, 0, 0);
    /// First version whose blocks report `starknet_version`.
    pub const V0_9_1: Self = Self::new(0, 9, 1, 0);
    /// The transaction commitment covers the signatures of every transaction type, not
    /// only of invokes.
    pub const V0_11_1: Self = Self::new(0, 11, 1, 0);
    /// Poseidon commitments and the `STARKNET_BLOCK_HASH0` block hash.
    pub const V0_13_2: Self = Self::new(0, 13, 2, 0);
    /// `STARKNET_BLOCK_HASH1` with hashed gas prices, and transaction commitment leaves
    /// without a zero placeholder for empty signatures.
    pub const V0_13_4: Self = Self::new(0, 13, 4, 0);

    pub const fn new(major: u16, minor: u16, patch: u16, build: u16) -> Self {
        Self {
            components: [major, minor, patch, build],
        }
    }

    /// Parses a `starknet_version` string. The empty string is [`StarknetVersion::OLDEST`],
    /// because the gateway omits the field on the oldest blocks and the chain model stores
    /// that as an empty string.
    pub fn parse(text: &str) -> Result<Self, InvalidStarknetVersion> {
        if text.is_empty() {
            return Ok(Self::OLDEST);
        }

        let invalid = || InvalidStarknetVersion {
            text: text.to_owned(),
        };
        let mut components = [0u16; 4];
        let mut count = 0;
        for part in text.split('.') {
            if count == components.len() || part.is_empty() {
                return Err(invalid());
            }
            if !part.bytes().all(|byte| byte.is_ascii_digit()) {
                return Err(invalid());
            }
            components[count] = part.parse().map_err(|_| invalid())?;
            count += 1;
        }
        if count < 2 {
            return Err(invalid());
        }
        Ok(Self { components })
    }
}

impl FromStr for StarknetVersion {
    type Err = InvalidStarknetVersion;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// Writes `major.minor.patch`, and the fourth component only when it is not zero.
impl fmt::Display for StarknetVersion {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [major, minor, patch, build] = self.components;
        write!(formatter, "{major}.{minor}.{patch}")?;
        if build != 0 {
            write!(formatter, ".{build}")?;
        }
        Ok(())
    }
}

/// A `starknet_version` that is not two to four dot-separated numbers below 65536.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid Starknet version {text:?}: expected two to four dot-separated numbers such as \
     \"0.13.1.1\", or an empty string for blocks that report no version"
)]
pub struct InvalidStarknetVersion {
    pub text: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_three_and_four_components() {
        assert_eq!(
            StarknetVersion::parse("0.13.1").unwrap(),
            StarknetVersion::new(0, 13, 1, 0)
        );
        assert_eq!(
            StarknetVersion::parse("0.13.1.1").unwrap(),
            StarknetVersion::new(0, 13, 1, 1)
        );
        assert_eq!(
            StarknetVersion::parse("0.14").unwrap(),
            StarknetVersion::new(0, 14, 0, 0)
        );
    }

    #[test]
    fn empty_version_is_oldest() {
        assert_eq!(StarknetVersion::parse("").unwrap(), StarknetVersion::OLDEST);
        assert!(StarknetVersion::OLDEST < StarknetVersion::V0_9_1);
    }

    #[test]
    fn versions_order_numerically() {
        let parse = |text| StarknetVersion::parse(text).unwrap();
        assert!(parse("0.9.1") < parse("0.10.0"));
        assert!(parse("0.13.1") < parse("0.13.1.1"));
        assert!(parse("0.13.1.1") < parse("0.13.2"));
        assert_eq!(parse("0.13.2"), parse("0.13.2.0"));
        assert!(parse("0.14.1") >= StarknetVersion::V0_13_4);
    }

    #[test]
    fn malformed_versions_are_rejected() {
        for text in [
            "0",
            "0..1",
            "0.13.",
            "v0.13.1",
            "0.13.1.1.1",
            "0.13.-1",
            "0.70000",
        ] {
            let error = StarknetVersion::parse(text).unwrap_err();
            assert_eq!(error.text, text);
        }
    }

    #[test]
    fn display_omits_zero_build() {
        assert_eq!(StarknetVersion::new(0, 13, 2, 0).to_string(), "0.13.2");
        assert_eq!(StarknetVersion::new(0, 13, 1, 1).to_string(), "0.13.1.1");
    }
}
