//! `starknet_blockNumber`: the number of the newest committed block.

use serde_json::Value;

use crate::context::RpcContext;
use crate::error::RpcError;

pub fn handle(context: &RpcContext) -> Result<Value, RpcError> {
    match context.storage.head()? {
        Some((number, _)) => Ok(Value::from(number.get())),
        None => Err(RpcError::no_blocks()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{context_with_blocks, empty_context};

    #[test]
    fn empty_database_has_no_blocks() {
        let (context, _dir) = empty_context();
        assert_eq!(handle(&context).unwrap_err().code, 32);
    }

    #[test]
    fn returns_head_number() {
        let (context, _dir) = context_with_blocks(3);
        assert_eq!(handle(&context).unwrap(), Value::from(2));
    }
}
