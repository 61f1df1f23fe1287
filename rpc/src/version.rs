//! Served API versions and the URL paths that select them.

/// One served API: a Starknet spec version, or the root path's v0.7 plus the node's
/// own methods and subscription shapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Api {
    /// `/`: v0.7 with numeric subscription ids, `juno_version` and `juno_unsubscribe`.
    Root,
    V0_7,
    V0_8,
    V0_9,
    V0_10,
}

impl Api {
    /// The newest version, served at `/rpc` and `/ws` without a version.
    pub const NEWEST: Api = Api::V0_10;

    /// Maps a request path to its API; `None` means HTTP 404.
    pub fn from_path(path: &str) -> Option<Api> {
        let path = path.split('?').next().unwrap_or(path);
        let trimmed = path.trim_end_matches('/');
        let versioned = trimmed.strip_prefix("/rpc").unwrap_or(trimmed);
        match (trimmed, versioned) {
            ("", _) => Some(Api::Root),
            ("/rpc" | "/ws", _) => Some(Api::NEWEST),
            (_, "/v0_7") => Some(Api::V0_7),
            (_, "/v0_8") => Some(Api::V0_8),
            (_, "/v0_9") => Some(Api::V0_9),
            (_, "/v0_10") => Some(Api::V0_10),
            _ => None,
        }
    }

    /// Exact release string of the spec, as `starknet_specVersion` returns it.
    pub fn spec_version(self) -> &'static str {
        match self {
            Api::Root | Api::V0_7 => "0.7.1",
            Api::V0_8 => "0.8.1",
            Api::V0_9 => "0.9.0",
            Api::V0_10 => "0.10.3",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_select_versions() {
        let cases = [
            ("/", Some(Api::Root)),
            ("", Some(Api::Root)),
            ("/v0_7", Some(Api::V0_7)),
            ("/rpc/v0_7", Some(Api::V0_7)),
            ("/v0_8", Some(Api::V0_8)),
            ("/rpc/v0_9/", Some(Api::V0_9)),
            ("/v0_10", Some(Api::V0_10)),
            ("/rpc", Some(Api::V0_10)),
            ("/ws", Some(Api::V0_10)),
            ("/v0_6", None),
            ("/rpc/v0_11", None),
            ("/metrics", None),
        ];
        for (path, expected) in cases {
            assert_eq!(Api::from_path(path), expected, "path {path:?}");
        }
    }
}
