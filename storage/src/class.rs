//! Class definitions as stored: the gateway's JSON, compressed, with its kind.

use serde::{Deserialize, Serialize};

use crate::types::{BlockNumber, ClassHash, CompiledClassHash};

/// A class definition together with where it entered the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassDefinition {
    pub hash: ClassHash,
    pub kind: ClassKind,
    /// The first block whose state diff introduced the class. Reverting that block
    /// removes the class.
    pub declared_at: BlockNumber,
    /// The definition as the feeder gateway served it (`get_class_by_hash`), as JSON.
    pub definition: Vec<u8>,
    /// The CASM of a Sierra class (`get_compiled_class_by_class_hash`), as JSON.
    pub compiled: Option<Vec<u8>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClassKind {
    /// A Cairo 0 class, hashed with the legacy class hash.
    Cairo0,
    /// A Sierra class and the hash of the CASM it compiles to.
    Sierra {
        compiled_class_hash: CompiledClassHash,
    },
}
