//! Databases with a few synthetic blocks for handler tests.

use starling_storage::*;
use tempfile::TempDir;

use crate::context::RpcContext;

pub fn empty_context() -> (RpcContext, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let chain = ChainInfo {
        network: "sepolia".into(),
        chain_id: ChainId::SEPOLIA,
    };
    let storage = Storage::open(dir.path(), chain).unwrap();
    (RpcContext::new(storage), dir)
}

/// Blocks 0..count with no transactions; block n has hash 0x100 + n.
pub fn context_with_blocks(count: u64) -> (RpcContext, TempDir) {
    let (context, dir) = empty_context();
    let mut writer = context.storage.writer().unwrap();
    let mut parent = BlockHash::ZERO;
    for number in 0..count {
        let mut block = empty_block(number, parent);
        let head = writer.head().map(|(number, _)| number);
        block.state_commitment = context
            .storage
            .compute_state_commitment(head, &block.state_diff)
            .unwrap();
        let header = writer.commit(block).unwrap();
        parent = header.hash;
    }
    (context, dir)
}

pub fn empty_block(number: u64, parent: BlockHash) -> BlockCommit {
    BlockCommit {
        header: BlockHeader {
            number: BlockNumber(number),
            hash: BlockHash(Felt::from(0x100 + number)),
            parent_hash: parent,
            state_root: Felt::from(7u8),
            timestamp: 1_700_000_000 + number,
            sequencer_address: ContractAddress(Felt::from(1u8)),
            l1_gas_price: GasPrices::default(),
            l1_data_gas_price: GasPrices::default(),
            l2_gas_price: GasPrices::default(),
            l1_da_mode: L1DataAvailabilityMode::Calldata,
            starknet_version: "0.13.1".into(),
            status: BlockStatus::AcceptedOnL2,
            transaction_count: 0,
            event_count: 0,
            transaction_commitment: None,
            event_commitment: None,
            receipt_commitment: None,
            state_diff_commitment: None,
            state_diff_length: None,
        },
        transactions: vec![],
        receipts: vec![],
        state_diff: StateDiff::default(),
        new_classes: vec![],
        state_commitment: StateCommitmentUpdate::default(),
    }
}

/// Commits `blocks` as blocks 0, 1, … of a new database. Each block gets its number, the
/// hash 0x100 + n, the link to its parent, the state commitment of its diff and the
/// matching state root. Everything else is kept as given.
pub fn context_with_chain(blocks: Vec<BlockCommit>) -> (RpcContext, TempDir) {
    let (context, dir) = empty_context();
    let mut writer = context.storage.writer().unwrap();
    let mut parent = BlockHash::ZERO;
    for (number, mut block) in (0u64..).zip(blocks) {
        block.header.number = BlockNumber(number);
        block.header.hash = BlockHash(Felt::from(0x100 + number));
        block.header.parent_hash = parent;
        block.header.timestamp = 1_700_000_000 + number;
        let head = writer.head().map(|(number, _)| number);
        block.state_commitment = context
            .storage
            .compute_state_commitment(head, &block.state_diff)
            .unwrap();
        block.header.state_root = block.state_commitment.roots.global_root();
        parent = writer.commit(block).unwrap().hash;
    }
    (context, dir)
}

/// Builds a block whose only content is `diff`, for [`context_with_chain`].
pub fn block_with_diff(diff: StateDiff) -> BlockCommit {
    let mut block = empty_block(0, BlockHash::ZERO);
    block.state_diff = diff;
    block
}

/// Builds a block with one invoke transaction per entry of `events`, which emits those
/// events. Transaction `i` gets the hash `number · 1000 + i`, so pass the number that
/// [`context_with_chain`] will give the block.
pub fn block_with_events(number: u64, events: Vec<Vec<Event>>) -> BlockCommit {
    let mut block = empty_block(number, BlockHash::ZERO);
    for (index, events) in (0u64..).zip(events) {
        let hash = TransactionHash(Felt::from(number * 1000 + index));
        block.transactions.push(Transaction {
            hash,
            variant: TransactionVariant::InvokeV1(InvokeTransactionV1 {
                sender_address: ContractAddress(Felt::from(0xau8)),
                calldata: vec![],
                max_fee: Felt::ONE,
                signature: vec![],
                nonce: Felt::from(index),
            }),
        });
        block.receipts.push(Receipt {
            transaction_hash: hash,
            actual_fee: Felt::ONE,
            execution_status: ExecutionStatus::Succeeded,
            events,
            l2_to_l1_messages: vec![],
            l1_to_l2_consumed_message: None,
            execution_resources: ExecutionResources::default(),
        });
    }
    block.header.transaction_count = block.transactions.len() as u64;
    block.header.event_count = block
        .receipts
        .iter()
        .map(|receipt| receipt.events.len() as u64)
        .sum();
    block
}

/// A three-block chain with every transaction type and version, receipts with events,
/// messages and reverts, Cairo 0 and Sierra classes, and headers from three eras:
///
/// - block 0 (Starknet 0.11.1, accepted on L1): deploy, invoke v0, L1 handler,
///   declare v1; no gas prices and no commitments.
/// - block 1 (0.13.1): reverted invoke v1, declare v2 of a Sierra class with CASM,
///   deploy-account v1, declare v0; L1 and L1 data gas prices, no commitments.
/// - block 2 (0.14.1): invoke v3 with proof facts, declare v3 without an L1 data gas
///   bound, deploy-account v3, a class replacement and a migrated compiled class hash.
///   Its header has every price, commitment and count.
///
/// [`sample_chain::context`] commits it. Identifiers are numbers, so that tests can
/// build both felts and their JSON (`"0xa1"`); block n has hash 0x100 + n.
pub mod sample_chain {
    use super::*;

    /// An account deployed in block 0 with [`CAIRO0_CLASS`]. Block 2 replaces its class
    /// with [`SIERRA_CLASS`].
    pub const ACCOUNT: u64 = 0xa1;
    /// Deployed by a version 1 deploy-account in block 1 with [`CAIRO0_CLASS`].
    pub const SECOND_ACCOUNT: u64 = 0xa2;
    /// Deployed by a version 3 deploy-account in block 2 with [`SIERRA_CLASS`].
    pub const THIRD_ACCOUNT: u64 = 0xa3;
    /// Cairo 0 class declared in block 0.
    pub const CAIRO0_CLASS: u64 = 0xc0;
    /// Cairo 0 class declared by a version 0 declare in block 1.
    pub const SECOND_CAIRO0_CLASS: u64 = 0xc2;
    /// Sierra class declared in block 1 and stored with its CASM. Block 2 migrates its
    /// compiled class hash to [`MIGRATED_COMPILED_CLASS`].
    pub const SIERRA_CLASS: u64 = 0x5c1;
    pub const SIERRA_COMPILED_CLASS: u64 = 0xcc1;
    pub const MIGRATED_COMPILED_CLASS: u64 = 0xcc9;
    /// Sierra class declared in block 2, stored without CASM.
    pub const SIERRA_CLASS_WITHOUT_CASM: u64 = 0x5c2;
    /// Ethereum address that sent the L1 handler's message in block 0.
    pub const L1_SENDER: u64 = 0xe7;
    /// Ethereum address that block 0's invoke sends a message to.
    pub const L1_RECIPIENT: u64 = 0x1111;

    /// Returns the hash of transaction `index` of block `block`.
    pub fn transaction_hash(block: u64, index: u64) -> u64 {
        0x1000 * (block + 1) + index
    }

    /// A Cairo 0 class as the gateway serves it: offsets as numbers and as hex strings.
    pub const CAIRO0_DEFINITION: &str = r#"{
        "abi": [{"inputs": [{"name": "amount", "type": "felt"}], "name": "deposit",
                 "outputs": [], "type": "function"}],
        "entry_points_by_type": {
            "CONSTRUCTOR": [{"offset": "0x1f", "selector": "0x28ffe4ff0f226a9107253e17a904099aa4f63a02a5621de0576e5aa71bc5194"}],
            "EXTERNAL": [{"offset": 26, "selector": "0x00c73f681176fc7b3f9693986fd7b14581e8d540519e27400e88b8713932be01"}],
            "L1_HANDLER": []
        },
        "program": {"builtins": ["pedersen"], "data": ["0x40780017fff7fff", "0x1"],
                    "prime": "0x800000000000011000000000000000000000000000000000000000000000001"}
    }"#;

    /// A Sierra class as the gateway serves it, with the ABI as a string.
    pub const SIERRA_DEFINITION: &str = r#"{
        "contract_class_version": "0.1.0",
        "sierra_program": ["0x1", "0x3", "0x0", "0x2", "0x00a"],
        "entry_points_by_type": {
            "CONSTRUCTOR": [{"selector": "0x28ffe4ff0f226a9107253e17a904099aa4f63a02a5621de0576e5aa71bc5194", "function_idx": 1}],
            "EXTERNAL": [{"selector": "0x0362398bec32bc0ebb411203221a35a0301193a96f317ebe5e40be9f60d15320", "function_idx": 0}],
            "L1_HANDLER": []
        },
        "abi": "[{\"type\": \"function\", \"name\": \"increase_balance\"}]"
    }"#;

    /// The CASM of [`SIERRA_DEFINITION`] as the gateway serves it, with
    /// `pythonic_hints`.
    pub const SIERRA_CASM: &str = r#"{
        "prime": "0x800000000000011000000000000000000000000000000000000000000000001",
        "compiler_version": "2.6.0",
        "bytecode": ["0xa0680017fff8000", "0x7", "0x0482680017ffa8000"],
        "hints": [[0, [{"TestLessThanOrEqual": {"lhs": {"Immediate": "0x3f2a0"},
                   "rhs": {"Deref": {"register": "FP", "offset": -6}},
                   "dst": {"register": "AP", "offset": 0}}}]]],
        "pythonic_hints": [[0, ["memory[ap + 0] = 258720 <= memory[fp + -6]"]]],
        "bytecode_segment_lengths": [3],
        "entry_points_by_type": {
            "CONSTRUCTOR": [{"selector": "0x28ffe4ff0f226a9107253e17a904099aa4f63a02a5621de0576e5aa71bc5194", "offset": 2, "builtins": []}],
            "EXTERNAL": [{"selector": "0x362398bec32bc0ebb411203221a35a0301193a96f317ebe5e40be9f60d15320", "offset": 0, "builtins": ["range_check"]}],
            "L1_HANDLER": []
        }
    }"#;

    /// Commits blocks 0 to 2 to a new database.
    pub fn context() -> (RpcContext, TempDir) {
        context_with_chain(vec![block_0(), block_1(), block_2()])
    }

    fn felt(value: u64) -> Felt {
        Felt::from(value)
    }

    fn address(value: u64) -> ContractAddress {
        ContractAddress(felt(value))
    }

    fn class_hash(value: u64) -> ClassHash {
        ClassHash(felt(value))
    }

    /// Builds a successful receipt without events or messages. It runs 10 steps,
    /// because every real receipt runs some and v0.7 forbids `"steps": 0`.
    fn succeeded(hash: u64, actual_fee: u64) -> Receipt {
        Receipt {
            transaction_hash: TransactionHash(felt(hash)),
            actual_fee: felt(actual_fee),
            execution_status: ExecutionStatus::Succeeded,
            events: vec![],
            l2_to_l1_messages: vec![],
            l1_to_l2_consumed_message: None,
            execution_resources: ExecutionResources {
                steps: 10,
                ..ExecutionResources::default()
            },
        }
    }

    fn transaction(hash: u64, variant: TransactionVariant) -> Transaction {
        Transaction {
            hash: TransactionHash(felt(hash)),
            variant,
        }
    }

    /// Builds block `number` with this body and the transaction and event counts that
    /// follow from it.
    fn block_with_body(
        number: u64,
        transactions: Vec<Transaction>,
        receipts: Vec<Receipt>,
        state_diff: StateDiff,
        new_classes: Vec<ClassDefinition>,
    ) -> BlockCommit {
        let mut block = empty_block(number, BlockHash::ZERO);
        block.header.transaction_count = transactions.len() as u64;
        block.header.event_count = receipts.iter().map(|r| r.events.len() as u64).sum();
        block.transactions = transactions;
        block.receipts = receipts;
        block.state_diff = state_diff;
        block.new_classes = new_classes;
        block
    }

    fn cairo0_class(hash: u64, declared_at: u64) -> ClassDefinition {
        ClassDefinition {
            hash: class_hash(hash),
            kind: ClassKind::Cairo0,
            declared_at: BlockNumber(declared_at),
            definition: CAIRO0_DEFINITION.as_bytes().to_vec(),
            compiled: None,
        }
    }

    fn sierra_class(
        hash: u64,
        compiled_hash: u64,
        declared_at: u64,
        casm: bool,
    ) -> ClassDefinition {
        ClassDefinition {
            hash: class_hash(hash),
            kind: ClassKind::Sierra {
                compiled_class_hash: CompiledClassHash(felt(compiled_hash)),
            },
            declared_at: BlockNumber(declared_at),
            definition: SIERRA_DEFINITION.as_bytes().to_vec(),
            compiled: casm.then(|| SIERRA_CASM.as_bytes().to_vec()),
        }
    }

    fn block_0() -> BlockCommit {
        let hash = |index| transaction_hash(0, index);
        let transactions = vec![
            transaction(
                hash(0),
                TransactionVariant::Deploy(DeployTransaction {
                    version: Felt::ZERO,
                    contract_address: address(ACCOUNT),
                    contract_address_salt: felt(0x5a17),
                    class_hash: class_hash(CAIRO0_CLASS),
                    constructor_calldata: vec![felt(0x99)],
                }),
            ),
            transaction(
                hash(1),
                TransactionVariant::InvokeV0(InvokeTransactionV0 {
                    max_fee: Felt::ZERO,
                    signature: vec![],
                    contract_address: address(ACCOUNT),
                    entry_point_selector: felt(0x5e1),
                    calldata: vec![felt(1), felt(2)],
                }),
            ),
            transaction(
                hash(2),
                TransactionVariant::L1Handler(L1HandlerTransaction {
                    version: Felt::ZERO,
                    nonce: felt(9),
                    contract_address: address(ACCOUNT),
                    entry_point_selector: felt(0x1e1),
                    calldata: vec![felt(L1_SENDER), felt(5)],
                }),
            ),
            transaction(
                hash(3),
                TransactionVariant::DeclareV1(DeclareTransactionV0V1 {
                    sender_address: address(ACCOUNT),
                    max_fee: felt(0x100),
                    signature: vec![felt(0x51), felt(0x52)],
                    nonce: Felt::ZERO,
                    class_hash: class_hash(CAIRO0_CLASS),
                }),
            ),
        ];

        let mut deploy = succeeded(hash(0), 0);
        deploy.execution_resources.steps = 41;
        deploy.execution_resources.builtins.range_check = 2;
        let mut invoke = succeeded(hash(1), 0);
        invoke.events = vec![Event {
            from_address: address(ACCOUNT),
            keys: vec![felt(0xe1)],
            data: vec![felt(0xd1), felt(0xd2)],
        }];
        invoke.l2_to_l1_messages = vec![L2ToL1Message {
            from_address: address(ACCOUNT),
            to_address: felt(L1_RECIPIENT),
            payload: vec![felt(7)],
        }];
        invoke.execution_resources.steps = 100;
        invoke.execution_resources.memory_holes = 3;
        invoke.execution_resources.builtins.pedersen = 1;
        let mut l1_handler = succeeded(hash(2), 0);
        l1_handler.l1_to_l2_consumed_message = Some(L1ToL2Message {
            from_address: felt(L1_SENDER),
            to_address: address(ACCOUNT),
            selector: felt(0x1e1),
            payload: vec![felt(5)],
            nonce: Some(felt(9)),
        });
        let receipts = vec![deploy, invoke, l1_handler, succeeded(hash(3), 0x64)];

        let state_diff = StateDiff {
            storage_diffs: vec![ContractStorageDiff {
                address: address(ACCOUNT),
                entries: vec![StorageEntry {
                    key: StorageKey(felt(5)),
                    value: felt(0x55),
                }],
            }],
            nonces: vec![NonceUpdate {
                contract_address: address(ACCOUNT),
                nonce: felt(1),
            }],
            deployed_contracts: vec![DeployedContract {
                address: address(ACCOUNT),
                class_hash: class_hash(CAIRO0_CLASS),
            }],
            deprecated_declared_classes: vec![class_hash(CAIRO0_CLASS)],
            ..StateDiff::default()
        };

        let mut block = block_with_body(
            0,
            transactions,
            receipts,
            state_diff,
            vec![cairo0_class(CAIRO0_CLASS, 0)],
        );
        block.header.starknet_version = "0.11.1".into();
        block.header.status = BlockStatus::AcceptedOnL1;
        block
    }

    fn block_1() -> BlockCommit {
        let hash = |index| transaction_hash(1, index);
        let transactions = vec![
            transaction(
                hash(0),
                TransactionVariant::InvokeV1(InvokeTransactionV1 {
                    sender_address: address(ACCOUNT),
                    calldata: vec![felt(3)],
                    max_fee: felt(0x2000),
                    signature: vec![felt(0x51)],
                    nonce: felt(1),
                }),
            ),
            transaction(
                hash(1),
                TransactionVariant::DeclareV2(DeclareTransactionV2 {
                    sender_address: address(ACCOUNT),
                    compiled_class_hash: CompiledClassHash(felt(SIERRA_COMPILED_CLASS)),
                    max_fee: felt(0x3000),
                    signature: vec![],
                    nonce: felt(2),
                    class_hash: class_hash(SIERRA_CLASS),
                }),
            ),
            transaction(
                hash(2),
                TransactionVariant::DeployAccountV1(DeployAccountTransactionV1 {
                    contract_address: address(SECOND_ACCOUNT),
                    max_fee: felt(0x4000),
                    signature: vec![felt(0x61)],
                    nonce: Felt::ZERO,
                    contract_address_salt: felt(0x5a18),
                    constructor_calldata: vec![felt(0x98)],
                    class_hash: class_hash(CAIRO0_CLASS),
                }),
            ),
            transaction(
                hash(3),
                TransactionVariant::DeclareV0(DeclareTransactionV0V1 {
                    sender_address: address(1),
                    max_fee: Felt::ZERO,
                    signature: vec![],
                    nonce: Felt::ZERO,
                    class_hash: class_hash(SECOND_CAIRO0_CLASS),
                }),
            ),
        ];

        let mut reverted = succeeded(hash(0), 0x1234);
        reverted.execution_status = ExecutionStatus::Reverted {
            reason: "Error in the called contract".into(),
        };
        reverted.execution_resources.steps = 7;
        reverted.execution_resources.data_availability.l1_data_gas = 128;
        let receipts = vec![
            reverted,
            succeeded(hash(1), 0x2345),
            succeeded(hash(2), 0x3456),
            succeeded(hash(3), 0),
        ];

        let state_diff = StateDiff {
            nonces: vec![
                NonceUpdate {
                    contract_address: address(ACCOUNT),
                    nonce: felt(3),
                },
                NonceUpdate {
                    contract_address: address(SECOND_ACCOUNT),
                    nonce: felt(1),
                },
            ],
            deployed_contracts: vec![DeployedContract {
                address: address(SECOND_ACCOUNT),
                class_hash: class_hash(CAIRO0_CLASS),
            }],
            declared_classes: vec![DeclaredClass {
                class_hash: class_hash(SIERRA_CLASS),
                compiled_class_hash: CompiledClassHash(felt(SIERRA_COMPILED_CLASS)),
            }],
            deprecated_declared_classes: vec![class_hash(SECOND_CAIRO0_CLASS)],
            ..StateDiff::default()
        };

        let mut block = block_with_body(
            1,
            transactions,
            receipts,
            state_diff,
            vec![
                sierra_class(SIERRA_CLASS, SIERRA_COMPILED_CLASS, 1, true),
                cairo0_class(SECOND_CAIRO0_CLASS, 1),
            ],
        );
        let header = &mut block.header;
        header.starknet_version = "0.13.1".into();
        header.l1_da_mode = L1DataAvailabilityMode::Blob;
        header.l1_gas_price = GasPrices {
            price_in_wei: felt(0x3b9aca00),
            price_in_fri: felt(0x5d21dba000),
        };
        header.l1_data_gas_price = GasPrices {
            price_in_wei: felt(0x1),
            price_in_fri: felt(0x2),
        };
        block
    }

    fn block_2() -> BlockCommit {
        let hash = |index| transaction_hash(2, index);
        let bounds = |amount: u64, price: u128| ResourceBounds {
            max_amount: amount,
            max_price_per_unit: price,
        };
        let transactions = vec![
            transaction(
                hash(0),
                TransactionVariant::InvokeV3(InvokeTransactionV3 {
                    sender_address: address(SECOND_ACCOUNT),
                    calldata: vec![felt(4)],
                    signature: vec![felt(0x71), felt(0x72)],
                    nonce: felt(1),
                    resource_bounds: ResourceBoundsMapping {
                        l1_gas: bounds(0x10, 0x20),
                        l2_gas: bounds(0x30, 0x40),
                        l1_data_gas: Some(bounds(0x50, 0x60)),
                    },
                    tip: 5,
                    paymaster_data: vec![],
                    account_deployment_data: vec![],
                    nonce_data_availability_mode: DataAvailabilityMode::L1,
                    fee_data_availability_mode: DataAvailabilityMode::L2,
                    proof_facts: vec![felt(0xf1)],
                }),
            ),
            transaction(
                hash(1),
                TransactionVariant::DeclareV3(DeclareTransactionV3 {
                    sender_address: address(SECOND_ACCOUNT),
                    compiled_class_hash: CompiledClassHash(felt(0xcc2)),
                    signature: vec![],
                    nonce: felt(2),
                    class_hash: class_hash(SIERRA_CLASS_WITHOUT_CASM),
                    resource_bounds: ResourceBoundsMapping {
                        l1_gas: bounds(0x11, 0x21),
                        l2_gas: bounds(0, 0),
                        l1_data_gas: None,
                    },
                    tip: 0,
                    paymaster_data: vec![felt(0x9a)],
                    account_deployment_data: vec![felt(0x9b)],
                    nonce_data_availability_mode: DataAvailabilityMode::L1,
                    fee_data_availability_mode: DataAvailabilityMode::L1,
                }),
            ),
            transaction(
                hash(2),
                TransactionVariant::DeployAccountV3(DeployAccountTransactionV3 {
                    contract_address: address(THIRD_ACCOUNT),
                    signature: vec![],
                    nonce: Felt::ZERO,
                    contract_address_salt: felt(0x5a19),
                    constructor_calldata: vec![],
                    class_hash: class_hash(SIERRA_CLASS),
                    resource_bounds: ResourceBoundsMapping {
                        l1_gas: bounds(1, 2),
                        l2_gas: bounds(3, 4),
                        l1_data_gas: Some(bounds(5, 6)),
                    },
                    tip: 0,
                    paymaster_data: vec![],
                    nonce_data_availability_mode: DataAvailabilityMode::L1,
                    fee_data_availability_mode: DataAvailabilityMode::L1,
                }),
            ),
        ];

        let mut invoke = succeeded(hash(0), 0x5678);
        invoke.events = vec![
            Event {
                from_address: address(SECOND_ACCOUNT),
                keys: vec![felt(0xe2)],
                data: vec![],
            },
            Event {
                from_address: address(THIRD_ACCOUNT),
                keys: vec![],
                data: vec![felt(0xd3)],
            },
        ];
        invoke.execution_resources.steps = 300;
        invoke.execution_resources.total_gas_consumed = Some(GasVector {
            l1_gas: 1,
            l1_data_gas: 2,
            l2_gas: 3,
        });
        let receipts = vec![
            invoke,
            succeeded(hash(1), 0x6789),
            succeeded(hash(2), 0x789a),
        ];

        let state_diff = StateDiff {
            storage_diffs: vec![ContractStorageDiff {
                address: address(THIRD_ACCOUNT),
                entries: vec![StorageEntry {
                    key: StorageKey(felt(1)),
                    value: felt(1),
                }],
            }],
            nonces: vec![NonceUpdate {
                contract_address: address(SECOND_ACCOUNT),
                nonce: felt(3),
            }],
            deployed_contracts: vec![DeployedContract {
                address: address(THIRD_ACCOUNT),
                class_hash: class_hash(SIERRA_CLASS),
            }],
            replaced_classes: vec![DeployedContract {
                address: address(ACCOUNT),
                class_hash: class_hash(SIERRA_CLASS),
            }],
            declared_classes: vec![DeclaredClass {
                class_hash: class_hash(SIERRA_CLASS_WITHOUT_CASM),
                compiled_class_hash: CompiledClassHash(felt(0xcc2)),
            }],
            deprecated_declared_classes: vec![],
            migrated_compiled_classes: vec![DeclaredClass {
                class_hash: class_hash(SIERRA_CLASS),
                compiled_class_hash: CompiledClassHash(felt(MIGRATED_COMPILED_CLASS)),
            }],
        };

        let mut block = block_with_body(
            2,
            transactions,
            receipts,
            state_diff,
            vec![sierra_class(SIERRA_CLASS_WITHOUT_CASM, 0xcc2, 2, false)],
        );
        let header = &mut block.header;
        header.starknet_version = "0.14.1".into();
        header.l1_da_mode = L1DataAvailabilityMode::Blob;
        header.l1_gas_price = GasPrices {
            price_in_wei: felt(0x10),
            price_in_fri: felt(0x11),
        };
        header.l1_data_gas_price = GasPrices {
            price_in_wei: felt(0x12),
            price_in_fri: felt(0x13),
        };
        header.l2_gas_price = GasPrices {
            price_in_wei: felt(0x14),
            price_in_fri: felt(0x15),
        };
        header.transaction_commitment = Some(felt(0x7c));
        header.event_commitment = Some(felt(0xec));
        header.receipt_commitment = Some(felt(0x4c));
        header.state_diff_commitment = Some(felt(0x5dc));
        header.state_diff_length = Some(7);
        block
    }
}

/// Asserts that `value` is an object with exactly the `expected` keys.
pub fn assert_keys(value: &serde_json::Value, expected: &[&str]) {
    let object = value
        .as_object()
        .unwrap_or_else(|| panic!("expected an object, got {value}"));
    let mut actual: Vec<&str> = object.keys().map(String::as_str).collect();
    let mut expected = expected.to_vec();
    actual.sort_unstable();
    expected.sort_unstable();
    assert_eq!(actual, expected, "keys of {value}");
}

/// Builds request parameters from a JSON array (by position) or object (by name).
pub fn params_from(values: serde_json::Value) -> crate::jsonrpc::Params {
    match values {
        serde_json::Value::Array(values) => crate::jsonrpc::Params::Positional(values),
        serde_json::Value::Object(map) => crate::jsonrpc::Params::Named(map),
        other => panic!("params must be an array or an object, got {other}"),
    }
}
