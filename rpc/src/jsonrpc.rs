//! JSON-RPC 2.0 envelopes: parsing requests and batches, building responses.

use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::error::RpcError;

/// Request id: a string, a number or null, echoed back unchanged.
pub type RequestId = Value;

/// A request that passed envelope validation.
#[derive(Debug, Clone)]
pub struct Request {
    /// `None` for a notification, which gets no response.
    pub id: Option<RequestId>,
    pub method: String,
    pub params: Params,
}

/// Parameters as sent: absent, by position or by name.
#[derive(Debug, Clone, Default)]
pub enum Params {
    #[default]
    None,
    Positional(Vec<Value>),
    Named(Map<String, Value>),
}

impl Params {
    /// True for absent params, `[]` and `{}`.
    pub fn is_empty(&self) -> bool {
        match self {
            Params::None => true,
            Params::Positional(values) => values.is_empty(),
            Params::Named(map) => map.is_empty(),
        }
    }

    /// Deserializes parameters into `T`, whose fields are named in `names` in spec
    /// order. Positional parameters are matched to `names` by index; absent parameters
    /// parse as an empty object, so `T` decides what is optional.
    pub fn parse<T: serde::de::DeserializeOwned>(&self, names: &[&str]) -> Result<T, RpcError> {
        let object = match self {
            Params::None => Map::new(),
            Params::Named(map) => map.clone(),
            Params::Positional(values) => {
                if values.len() > names.len() {
                    return Err(RpcError::invalid_params(format!(
                        "expected at most {} parameters, got {}",
                        names.len(),
                        values.len()
                    )));
                }
                names
                    .iter()
                    .zip(values)
                    .map(|(name, value)| (name.to_string(), value.clone()))
                    .collect()
            }
        };
        serde_json::from_value(Value::Object(object))
            .map_err(|error| RpcError::invalid_params(error.to_string()))
    }
}

/// An incoming WebSocket text frame or HTTP body.
#[derive(Debug)]
pub enum Incoming {
    Single(Result<Request, Box<Response>>),
    /// Each element is parsed on its own, so one bad element does not fail the batch.
    Batch(Vec<Result<Request, Box<Response>>>),
}

/// Parses a message; an error here is the complete response to send (-32700 or -32600).
pub fn parse_message(text: &str) -> Result<Incoming, Box<Response>> {
    let raw: &RawValue = serde_json::from_str(text)
        .map_err(|error| Box::new(Response::error(Value::Null, RpcError::parse_error(error))))?;

    let value: Value = serde_json::from_str(raw.get())
        .map_err(|error| Box::new(Response::error(Value::Null, RpcError::parse_error(error))))?;

    match value {
        Value::Array(elements) if elements.is_empty() => Err(Box::new(Response::error(
            Value::Null,
            RpcError::invalid_request("empty batch"),
        ))),
        Value::Array(elements) => Ok(Incoming::Batch(
            elements.into_iter().map(parse_request).collect(),
        )),
        other => Ok(Incoming::Single(parse_request(other))),
    }
}

fn parse_request(value: Value) -> Result<Request, Box<Response>> {
    let Value::Object(mut object) = value else {
        return Err(invalid(Value::Null, "a request must be a JSON object"));
    };

    let id = match object.remove("id") {
        None => None,
        Some(id @ (Value::String(_) | Value::Number(_) | Value::Null)) => Some(id),
        Some(_) => {
            return Err(invalid(
                Value::Null,
                "id must be a string, a number or null",
            ))
        }
    };
    let reply_id = id.clone().unwrap_or(Value::Null);

    if object.get("jsonrpc") != Some(&Value::String("2.0".into())) {
        return Err(invalid(reply_id, "jsonrpc must be \"2.0\""));
    }
    let method = match object.remove("method") {
        Some(Value::String(method)) => method,
        _ => return Err(invalid(reply_id, "method must be a string")),
    };
    let params = match object.remove("params") {
        None | Some(Value::Null) => Params::None,
        Some(Value::Array(values)) => Params::Positional(values),
        Some(Value::Object(map)) => Params::Named(map),
        Some(_) => return Err(invalid(reply_id, "params must be an array or an object")),
    };

    Ok(Request { id, method, params })
}

fn invalid(id: RequestId, message: &str) -> Box<Response> {
    Box::new(Response::error(id, RpcError::invalid_request(message)))
}

/// A response object, serialized with `result` or `error`.
#[derive(Debug, Clone, Serialize)]
pub struct Response {
    pub jsonrpc: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<RpcError>,
    pub id: RequestId,
}

impl Response {
    pub fn result(id: RequestId, result: Value) -> Self {
        Self {
            jsonrpc: "2.0",
            result: Some(result),
            error: None,
            id,
        }
    }

    pub fn error(id: RequestId, error: RpcError) -> Self {
        Self {
            jsonrpc: "2.0",
            result: None,
            error: Some(error),
            id,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("responses serialize")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    fn single(text: &str) -> Result<Request, Box<Response>> {
        match parse_message(text).unwrap() {
            Incoming::Single(request) => request,
            Incoming::Batch(_) => panic!("expected a single request"),
        }
    }

    #[test]
    fn malformed_json_is_parse_error() {
        let response = parse_message("{\"jsonrpc\":").unwrap_err();
        assert_eq!(response.error.unwrap().code, -32700);
        assert_eq!(response.id, Value::Null);
    }

    #[test]
    fn empty_batch_is_invalid_request() {
        let response = parse_message("[]").unwrap_err();
        assert_eq!(response.error.unwrap().code, -32600);
    }

    #[test]
    fn request_without_params_parses() {
        let request = single(r#"{"jsonrpc": "2.0", "method": "juno_version", "id": 1}"#).unwrap();
        assert_eq!(request.method, "juno_version");
        assert_eq!(request.id, Some(Value::from(1)));
        assert!(matches!(request.params, Params::None));
    }

    #[test]
    fn request_without_id_is_notification() {
        let request = single(r#"{"jsonrpc": "2.0", "method": "x"}"#).unwrap();
        assert_eq!(request.id, None);
    }

    #[test]
    fn wrong_jsonrpc_version_is_invalid_request() {
        let response = single(r#"{"jsonrpc": "1.0", "method": "x", "id": "a"}"#).unwrap_err();
        assert_eq!(response.error.unwrap().code, -32600);
        assert_eq!(response.id, Value::from("a"));
    }

    #[test]
    fn object_id_is_invalid_request() {
        let response = single(r#"{"jsonrpc": "2.0", "method": "x", "id": {}}"#).unwrap_err();
        assert_eq!(response.error.unwrap().code, -32600);
    }

    #[derive(Deserialize)]
    struct Unsubscribe {
        id: u64,
    }

    #[test]
    fn params_by_name_and_by_position_agree() {
        let named = single(r#"{"jsonrpc":"2.0","method":"m","params":{"id":7},"id":1}"#).unwrap();
        let positional = single(r#"{"jsonrpc":"2.0","method":"m","params":[7],"id":1}"#).unwrap();
        assert_eq!(named.params.parse::<Unsubscribe>(&["id"]).unwrap().id, 7);
        assert_eq!(
            positional.params.parse::<Unsubscribe>(&["id"]).unwrap().id,
            7
        );
    }

    #[test]
    fn too_many_positional_params_is_invalid_params() {
        let request = single(r#"{"jsonrpc":"2.0","method":"m","params":[7, 8],"id":1}"#).unwrap();
        let error = request.params.parse::<Unsubscribe>(&["id"]).err().unwrap();
        assert_eq!(error.code, -32602);
    }

    #[test]
    fn batch_elements_parse_independently() {
        let Incoming::Batch(items) =
            parse_message(r#"[{"jsonrpc":"2.0","method":"a","id":1}, 5]"#).unwrap()
        else {
            panic!("expected a batch");
        };
        assert!(items[0].is_ok());
        assert_eq!(
            items[1].as_ref().unwrap_err().error.as_ref().unwrap().code,
            -32600
        );
    }
}
