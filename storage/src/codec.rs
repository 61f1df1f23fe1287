//! Value encodings: bincode for structured values, zstd for large JSON blobs.

use serde::de::DeserializeOwned;
use serde::Serialize;
use starknet_types_core::felt::Felt;

use crate::error::{StorageError, StorageResult};

/// zstd level for class definitions: level 3 compresses class JSON about 8x at a few
/// milliseconds per class, and classes are written once and read rarely.
const ZSTD_LEVEL: i32 = 3;

pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Encoding plain data structures into a Vec cannot fail.
    bincode::serde::encode_to_vec(value, bincode::config::standard())
        .expect("bincode encoding of a chain-model value")
}

pub fn decode<T: DeserializeOwned>(bytes: &[u8], what: &str) -> StorageResult<T> {
    bincode::serde::decode_from_slice(bytes, bincode::config::standard())
        .map(|(value, _)| value)
        .map_err(|error| StorageError::Corrupt(format!("cannot decode {what}: {error}")))
}

pub fn compress(bytes: &[u8]) -> StorageResult<Vec<u8>> {
    Ok(zstd::encode_all(bytes, ZSTD_LEVEL)?)
}

pub fn decompress(bytes: &[u8], what: &str) -> StorageResult<Vec<u8>> {
    zstd::decode_all(bytes)
        .map_err(|error| StorageError::Corrupt(format!("cannot decompress {what}: {error}")))
}

pub fn felt_from_bytes(bytes: &[u8], what: &str) -> StorageResult<Felt> {
    let array: [u8; 32] = bytes
        .try_into()
        .map_err(|_| StorageError::Corrupt(format!("{what} is {} bytes, not 32", bytes.len())))?;
    Ok(Felt::from_bytes_be(&array))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{BlockNumber, ClassHash};

    #[test]
    fn felts_encode_compactly() {
        let small = encode(&ClassHash(Felt::from(5u8)));
        assert!(small.len() <= 2, "a small felt took {} bytes", small.len());
        let large = ClassHash(Felt::MAX);
        let decoded: ClassHash = decode(&encode(&large), "class hash").unwrap();
        assert_eq!(decoded, large);
    }

    #[test]
    fn decode_reports_what_was_corrupt() {
        let error = decode::<(BlockNumber, ClassHash)>(&[0xff], "test value").unwrap_err();
        assert!(error.to_string().contains("test value"), "{error}");
    }

    #[test]
    fn compression_round_trips() {
        let json = br#"{"abi": [], "program": {"data": ["0x1", "0x2", "0x1", "0x2"]}}"#;
        let packed = compress(json).unwrap();
        assert_eq!(decompress(&packed, "class").unwrap(), json);
    }
}
