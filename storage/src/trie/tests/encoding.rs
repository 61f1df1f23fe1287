//! Node encoding: round trips, the exact byte layout, and rejection of malformed bytes.

use starknet_types_core::felt::Felt;

use super::two_pow;
use crate::trie::{Node, TrieError};

fn round_trip(node: Node) {
    let bytes = node.encode();
    assert_eq!(Node::decode(&bytes).unwrap(), node, "bytes {bytes:02x?}");
}

#[test]
fn nodes_round_trip() {
    round_trip(Node::Binary {
        left: Felt::ONE,
        right: Felt::MAX,
    });
    round_trip(Node::Binary {
        left: Felt::ZERO,
        right: Felt::ZERO,
    });
    for length in [1u8, 7, 8, 9, 16, 128, 250, 251] {
        // The largest path of each length, then a sparse one.
        let largest = two_pow(u32::from(length)) - Felt::ONE;
        round_trip(Node::Edge {
            child: Felt::MAX,
            path: largest,
            length,
        });
        round_trip(Node::Edge {
            child: Felt::from(0x1234),
            path: Felt::ONE,
            length,
        });
        round_trip(Node::Edge {
            child: Felt::ONE,
            path: Felt::ZERO,
            length,
        });
    }
}

#[test]
fn encoding_layout_is_stable() {
    let binary = Node::Binary {
        left: Felt::from(0x0102),
        right: Felt::from(0x03),
    };
    let mut expected = vec![0u8];
    expected.extend_from_slice(&[0; 30]);
    expected.extend_from_slice(&[0x01, 0x02]);
    expected.extend_from_slice(&[0; 31]);
    expected.push(0x03);
    assert_eq!(binary.encode(), expected);

    let edge = Node::Edge {
        child: Felt::from(0xff),
        path: Felt::from(0x1ab),
        length: 9,
    };
    let mut expected = vec![1u8];
    expected.extend_from_slice(&[0; 31]);
    expected.push(0xff);
    expected.push(9);
    expected.extend_from_slice(&[0x01, 0xab]);
    assert_eq!(edge.encode(), expected);

    let full = Node::Edge {
        child: Felt::ONE,
        path: Felt::ZERO,
        length: 251,
    };
    assert_eq!(full.encode().len(), 66);
}

#[test]
fn malformed_bytes_are_rejected() {
    let good_edge = Node::Edge {
        child: Felt::ONE,
        path: Felt::from(0x5),
        length: 3,
    }
    .encode();
    let good_binary = Node::Binary {
        left: Felt::ONE,
        right: Felt::TWO,
    }
    .encode();

    let mut unknown_tag = good_binary.clone();
    unknown_tag[0] = 2;
    let short_binary = good_binary[..64].to_vec();
    let mut long_binary = good_binary.clone();
    long_binary.push(0);
    let mut zero_length = good_edge.clone();
    zero_length[33] = 0;
    let mut too_long = good_edge[..34].to_vec();
    too_long[33] = 252;
    too_long.extend_from_slice(&[0; 32]);
    let mut path_above_length = good_edge.clone();
    path_above_length[34] = 0x08;
    let mut extra_path_byte = good_edge.clone();
    extra_path_byte.push(0);
    // 2^256 - 1 is above the field prime.
    let mut felt_above_prime = good_binary.clone();
    felt_above_prime[1..33].fill(0xff);

    for (case, bytes) in [
        ("empty", Vec::new()),
        ("unknown tag", unknown_tag),
        ("short binary", short_binary),
        ("long binary", long_binary),
        ("edge header only", good_edge[..33].to_vec()),
        ("zero length", zero_length),
        ("length 252", too_long),
        ("path above length", path_above_length),
        ("extra path byte", extra_path_byte),
        ("felt above prime", felt_above_prime),
    ] {
        let result = Node::decode(&bytes);
        assert!(
            matches!(result, Err(TrieError::InvalidNode { .. })),
            "{case}: {result:?}"
        );
    }
}
