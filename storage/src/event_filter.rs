//! Per-block Bloom filters over event emitters and event keys, so that an event scan
//! reads the receipts of only the blocks that may contain a match.
//!
//! Each block's filter holds one item per distinct emitter address and one per distinct
//! (key position, key value) pair of the block's events. A filter never reports an item
//! it contains as absent. It reports an absent item as possibly present with a probability
//! of about 1%, because it has 10 bits per item and 7 hash functions (the optimum for that
//! size gives 0.8%).

use std::collections::HashSet;

use rocksdb::WriteBatch;
use starknet_types_core::felt::Felt;

use crate::db::Storage;
use crate::error::{StorageError, StorageResult};
use crate::receipt::{Event, Receipt};
use crate::schema;
use crate::types::{BlockNumber, ContractAddress};

/// Encoding version, the first byte of every stored filter.
const FORMAT_VERSION: u8 = 1;

/// Bits per distinct item: with [`HASH_COUNT`] hashes this gives about 1% false positives.
const BITS_PER_ITEM: usize = 10;

/// Hash functions per item, `BITS_PER_ITEM · ln 2` rounded.
const HASH_COUNT: u8 = 7;

/// Smallest bit array of a block that has events, so that a block with one or two items
/// still has a low false-positive rate.
const MIN_BITS: usize = 64;

/// Item tag of an emitter address; a key at position `p` has tag `p + 1`.
const ADDRESS_TAG: u64 = 0;

/// Which events a scan wants: the spec's event filter without its block range.
///
/// An event matches when its emitter is one of `addresses`, or any emitter if the list is
/// empty. It must also match every position `p` whose list in `keys` is not empty: the
/// event needs a key at `p` that is one of the listed values. An empty list at a position
/// is a wildcard, and it does not require the event to have a key there.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventQuery {
    pub addresses: Vec<ContractAddress>,
    pub keys: Vec<Vec<Felt>>,
}

impl EventQuery {
    /// Checks one event against the query exactly.
    pub fn matches(&self, event: &Event) -> bool {
        if !self.addresses.is_empty() && !self.addresses.contains(&event.from_address) {
            return false;
        }
        self.keys
            .iter()
            .enumerate()
            .filter(|(_, allowed)| !allowed.is_empty())
            .all(|(position, allowed)| {
                event
                    .keys
                    .get(position)
                    .is_some_and(|key| allowed.contains(key))
            })
    }
}

/// The Bloom filter of one block's events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockEventFilter {
    /// The bit array; empty exactly when the block has no events.
    bits: Vec<u8>,
}

impl BlockEventFilter {
    /// Builds the filter of a block from its events.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a Event>) -> Self {
        let mut items: HashSet<(u64, Felt)> = HashSet::new();
        for event in events {
            items.insert((ADDRESS_TAG, event.from_address.0));
            for (position, key) in event.keys.iter().enumerate() {
                items.insert((key_tag(position), *key));
            }
        }
        if items.is_empty() {
            return Self { bits: Vec::new() };
        }

        let bit_count = (items.len() * BITS_PER_ITEM).max(MIN_BITS);
        let mut filter = Self {
            bits: vec![0; bit_count.div_ceil(8)],
        };
        for (tag, value) in &items {
            filter.insert(*tag, value);
        }
        filter
    }

    /// Returns whether the block has no events at all.
    pub fn is_empty(&self) -> bool {
        self.bits.is_empty()
    }

    /// Returns whether some event of the block may have been emitted by `address`.
    pub fn may_contain_address(&self, address: ContractAddress) -> bool {
        self.may_contain(ADDRESS_TAG, &address.0)
    }

    /// Returns whether some event of the block may have `key` at `position`.
    pub fn may_contain_key(&self, position: usize, key: &Felt) -> bool {
        self.may_contain(key_tag(position), key)
    }

    /// Returns whether the block may contain an event that matches `query`. `false` is
    /// certain. `true` can be a false positive, also because the filter does not record
    /// which address and which keys occur in the same event.
    pub fn may_match(&self, query: &EventQuery) -> bool {
        if self.is_empty() {
            return false;
        }
        let address_may_match = query.addresses.is_empty()
            || query
                .addresses
                .iter()
                .any(|address| self.may_contain_address(*address));
        address_may_match
            && query
                .keys
                .iter()
                .enumerate()
                .filter(|(_, allowed)| !allowed.is_empty())
                .all(|(position, allowed)| {
                    allowed
                        .iter()
                        .any(|key| self.may_contain_key(position, key))
                })
    }

    /// Encodes the filter as stored: `FORMAT_VERSION ‖ bit array`.
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(1 + self.bits.len());
        bytes.push(FORMAT_VERSION);
        bytes.extend_from_slice(&self.bits);
        bytes
    }

    /// Decodes bytes written by [`BlockEventFilter::encode`].
    pub fn decode(bytes: &[u8]) -> StorageResult<Self> {
        match bytes.split_first() {
            Some((&FORMAT_VERSION, bits)) => Ok(Self {
                bits: bits.to_vec(),
            }),
            Some((version, _)) => Err(StorageError::Corrupt(format!(
                "event filter has format version {version}, this build reads version {FORMAT_VERSION}"
            ))),
            None => Err(StorageError::Corrupt("event filter is empty".into())),
        }
    }

    fn insert(&mut self, tag: u64, value: &Felt) {
        let bit_count = self.bit_count();
        for index in bit_indexes(tag, value, bit_count) {
            self.bits[index / 8] |= 1 << (index % 8);
        }
    }

    fn may_contain(&self, tag: u64, value: &Felt) -> bool {
        if self.is_empty() {
            return false;
        }
        let bit_count = self.bit_count();
        bit_indexes(tag, value, bit_count)
            .all(|index| self.bits[index / 8] & (1 << (index % 8)) != 0)
    }

    fn bit_count(&self) -> usize {
        self.bits.len() * 8
    }
}

fn key_tag(position: usize) -> u64 {
    position as u64 + 1
}

/// Computes the [`HASH_COUNT`] bit positions of an item by double hashing, `h1 + i·h2`.
/// The hashes are computed here rather than with `std`'s hasher because stored filters
/// must hash the same way in every build.
fn bit_indexes(tag: u64, value: &Felt, bit_count: usize) -> impl Iterator<Item = usize> {
    let (first, second) = item_hashes(tag, value);
    let bit_count = bit_count as u64;
    (0..u64::from(HASH_COUNT))
        .map(move |i| (first.wrapping_add(i.wrapping_mul(second)) % bit_count) as usize)
}

/// Computes two 64-bit hashes of `tag ‖ value`, each a chain of MurmurHash3's 64-bit finalizer
/// over the tag and the felt's four big-endian words, from two different seeds. The
/// second hash is odd so that the double-hashing steps never repeat a zero step.
fn item_hashes(tag: u64, value: &Felt) -> (u64, u64) {
    const SEED_FIRST: u64 = 0x9e37_79b9_7f4a_7c15;
    const SEED_SECOND: u64 = 0xc2b2_ae3d_27d4_eb4f;

    let bytes = value.to_bytes_be();
    let mut first = mix64(SEED_FIRST ^ tag);
    let mut second = mix64(SEED_SECOND ^ tag);
    for word in bytes.chunks_exact(8) {
        let word = u64::from_be_bytes(word.try_into().expect("chunks are 8 bytes"));
        first = mix64(first ^ word);
        second = mix64(second.rotate_left(29) ^ word);
    }
    (first, second | 1)
}

/// MurmurHash3's 64-bit finalizer, a bijection that spreads every input bit over the
/// output.
fn mix64(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^= x >> 33;
    x
}

/// Adds the filter of a block's events to the block's batch.
pub(crate) fn put_event_filter(
    storage: &Storage,
    batch: &mut WriteBatch,
    number: BlockNumber,
    receipts: &[Receipt],
) {
    let filter = BlockEventFilter::from_events(receipts.iter().flat_map(|receipt| &receipt.events));
    batch.put_cf(
        storage.cf(schema::EVENT_FILTERS),
        schema::block_key(number),
        filter.encode(),
    );
}

impl Storage {
    /// Reads the event filter of block `number`. Returns `None` when the block is not
    /// stored or was written before the node kept event filters.
    pub fn event_filter(&self, number: BlockNumber) -> StorageResult<Option<BlockEventFilter>> {
        self.inner
            .db
            .get_pinned_cf(self.cf(schema::EVENT_FILTERS), schema::block_key(number))?
            .map(|bytes| BlockEventFilter::decode(&bytes))
            .transpose()
    }

    /// Checks whether block `number` may contain an event matching `query`, with one read
    /// of its filter. A block without a stored filter may match, so that a database synced
    /// before filters existed is still scanned in full.
    pub fn block_may_match_events(
        &self,
        number: BlockNumber,
        query: &EventQuery,
    ) -> StorageResult<bool> {
        Ok(self
            .event_filter(number)?
            .is_none_or(|filter| filter.may_match(query)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(address: u64, keys: &[u64]) -> Event {
        Event {
            from_address: ContractAddress(Felt::from(address)),
            keys: keys.iter().map(|key| Felt::from(*key)).collect(),
            data: vec![],
        }
    }

    fn query(addresses: &[u64], keys: &[&[u64]]) -> EventQuery {
        EventQuery {
            addresses: addresses
                .iter()
                .map(|address| ContractAddress(Felt::from(*address)))
                .collect(),
            keys: keys
                .iter()
                .map(|values| values.iter().map(|key| Felt::from(*key)).collect())
                .collect(),
        }
    }

    #[test]
    fn filter_holds_every_inserted_item() {
        let events: Vec<Event> = (0..500).map(|i| event(i, &[i + 1, i + 2])).collect();
        let filter = BlockEventFilter::from_events(&events);
        for i in 0..500 {
            assert!(filter.may_contain_address(ContractAddress(Felt::from(i))));
            assert!(filter.may_contain_key(0, &Felt::from(i + 1)));
            assert!(filter.may_contain_key(1, &Felt::from(i + 2)));
        }
    }

    #[test]
    fn key_positions_are_distinct_items() {
        let filter = BlockEventFilter::from_events(&[event(1, &[7, 8])]);
        assert!(filter.may_contain_key(0, &Felt::from(7u8)));
        assert!(!filter.may_contain_key(1, &Felt::from(7u8)));
        assert!(!filter.may_contain_key(0, &Felt::from(8u8)));
    }

    #[test]
    fn false_positive_rate_is_near_one_percent() {
        let events: Vec<Event> = (0..1000).map(|i| event(i, &[])).collect();
        let filter = BlockEventFilter::from_events(&events);
        let false_positives = (1_000_000..1_100_000)
            .filter(|i| filter.may_contain_address(ContractAddress(Felt::from(*i as u64))))
            .count();
        // 100 000 absent addresses at about 1% give about 1000 false positives.
        assert!(false_positives < 2000, "{false_positives} false positives");
    }

    #[test]
    fn block_without_events_matches_nothing() {
        let filter = BlockEventFilter::from_events(&[]);
        assert!(filter.is_empty());
        assert!(!filter.may_match(&EventQuery::default()));
        assert_eq!(BlockEventFilter::decode(&filter.encode()).unwrap(), filter);
    }

    #[test]
    fn may_match_follows_query_semantics() {
        let filter = BlockEventFilter::from_events(&[event(1, &[10, 20]), event(2, &[30])]);
        assert!(filter.may_match(&query(&[], &[])));
        assert!(filter.may_match(&query(&[2, 99], &[])));
        assert!(filter.may_match(&query(&[], &[&[10]])));
        assert!(filter.may_match(&query(&[], &[&[], &[20]])));
        assert!(filter.may_match(&query(&[1], &[&[99, 30], &[]])));
        assert!(!filter.may_match(&query(&[3], &[])));
        assert!(!filter.may_match(&query(&[], &[&[20]])));
        assert!(!filter.may_match(&query(&[], &[&[10], &[99]])));
    }

    #[test]
    fn exact_match_checks_positions_and_wildcards() {
        let emitted = event(1, &[10, 20]);
        assert!(query(&[], &[]).matches(&emitted));
        assert!(query(&[1], &[&[10]]).matches(&emitted));
        assert!(query(&[], &[&[], &[20, 21]]).matches(&emitted));
        assert!(query(&[], &[&[10], &[20], &[]]).matches(&emitted));
        assert!(!query(&[2], &[]).matches(&emitted));
        assert!(!query(&[], &[&[20]]).matches(&emitted));
        assert!(!query(&[], &[&[], &[], &[30]]).matches(&emitted));
    }

    #[test]
    fn encoding_round_trips_and_rejects_other_versions() {
        let filter = BlockEventFilter::from_events(&[event(5, &[6])]);
        let bytes = filter.encode();
        assert_eq!(BlockEventFilter::decode(&bytes).unwrap(), filter);

        let mut other_version = bytes.clone();
        other_version[0] = 9;
        let error = BlockEventFilter::decode(&other_version).unwrap_err();
        assert!(error.to_string().contains("version 9"), "{error}");
        assert!(BlockEventFilter::decode(&[]).is_err());
    }
}
