//! `starknet_specVersion`: the exact spec release of the requested path.

use serde_json::Value;

use crate::version::Api;

pub fn handle(api: Api) -> Value {
    Value::from(api.spec_version())
}
