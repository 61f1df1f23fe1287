//! `starknet_blockHashAndNumber`: hash and number of the newest committed block.

use serde_json::{json, Value};

use crate::context::RpcContext;
use crate::error::RpcError;

pub fn handle(context: &RpcContext) -> Result<Value, RpcError> {
    match context.storage.head()? {
        Some((number, hash)) => Ok(json!({
            "block_hash": hash.to_string(),
            "block_number": number.get(),
        })),
        None => Err(RpcError::no_blocks()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::context_with_blocks;

    #[test]
    fn returns_head_hash_and_number() {
        let (context, _dir) = context_with_blocks(2);
        let head = context.storage.head().unwrap().unwrap();
        assert_eq!(
            handle(&context).unwrap(),
            json!({"block_hash": head.1.to_string(), "block_number": 1})
        );
    }
}
