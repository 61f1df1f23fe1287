//! The simulated world: a bootstrap account, generated user accounts, fee tokens, a
//! deployer and application contracts, and what each block does with them.
//!
//! * Block 0 predeploys the bootstrap account, the deployer and the ETH and STRK fee
//!   tokens. Their Cairo 0 classes are listed in the state diff without a transaction.
//!   The bootstrap account then declares one Cairo 0 class (DECLARE v1) and three Sierra
//!   classes (one DECLARE v2, two DECLARE v3).
//! * Blocks 1 to [`SETUP_BLOCKS`] fund and deploy [`ACCOUNTS_PER_SETUP_BLOCK`] accounts
//!   each (DEPLOY_ACCOUNT v3) and deploy application contracts through the deployer.
//! * Every later block has 4 to 12 INVOKE transactions from random accounts, v1 or v3,
//!   that write storage of 1 to 3 contracts and emit events. A few revert or send an
//!   L2-to-L1 message. Every [`DECLARE_INTERVAL`] blocks one account declares a new class.
//!
//! Every transaction pays a fee: the fee token's balances of the payer and the sequencer
//! change in the state diff, and the receipt carries the token's `Transfer` event.

use std::collections::{BTreeMap, HashMap};

use starknet_types_core::hash::{Pedersen, StarkHash};
use starling_storage::{
    ChainId, ClassHash, ContractAddress, ContractStorageDiff, DeclaredClass, DeployedContract,
    Event, Felt, L2ToL1Message, NonceUpdate, StateDiff, StorageEntry, StorageKey, Transaction,
};

use super::assembly::{BlockContent, BlockEnv};
use super::classes::{cairo0_class, sierra_class, SynthClass};
use super::rng::Rng;
use super::transactions::{
    contract_address, draw_gas, receipt, selector, Account, FeeTerms, TransactionFactory,
};
use crate::verify::{CompiledClassHashVersion, HashContext, StarknetVersion};

/// The Starknet version of every block. Recorded 0.13.4 blocks still carry v1
/// transactions besides v3, and 0.13.4 hashes blocks with `STARKNET_BLOCK_HASH1`, with
/// receipt and state diff commitments and L2 gas prices.
pub const STARKNET_VERSION: &str = "0.13.4";

/// Blocks after genesis that deploy accounts and contracts.
pub(super) const SETUP_BLOCKS: u64 = 4;
const ACCOUNTS_PER_SETUP_BLOCK: usize = 6;
const DEPLOY_TRANSACTIONS_PER_SETUP_BLOCK: usize = 3;
const CONTRACTS_PER_DEPLOY_TRANSACTION: usize = 4;
/// Every fourth account sends version 1 transactions.
const V1_ACCOUNT_EVERY: usize = 4;
/// Blocks between two declarations after the setup.
pub(super) const DECLARE_INTERVAL: u64 = 100;
/// Storage slots of each application contract that invokes write.
const SLOT_COUNT: usize = 64;
/// 2025-01-01T00:00:00Z; blocks follow six to eight seconds apart.
const GENESIS_TIMESTAMP: u64 = 1_735_689_600;
/// Balance of the bootstrap account in each fee token at genesis.
const INITIAL_SUPPLY: u128 = 10u128.pow(36);
/// Amount of each fee token that the bootstrap account sends a new account.
const ACCOUNT_FUNDING: u128 = 10u128.pow(30);

/// Entry points the application contracts expose, called by invokes.
const APP_ENTRY_POINTS: [&str; 5] = ["transfer", "approve", "mint", "set_value", "increment"];
/// Events the application contracts emit.
const APP_EVENTS: [&str; 4] = ["Transfer", "Approval", "ValueSet", "Minted"];

/// The classes of block 0.
#[derive(Clone, Debug)]
struct GenesisClasses {
    account_cairo0: SynthClass,
    deployer_cairo0: SynthClass,
    token_cairo0: SynthClass,
    app_cairo0: SynthClass,
    account_sierra: SynthClass,
    app_sierra: [SynthClass; 2],
}

/// Storage keys the contracts use, computed once.
#[derive(Clone, Debug)]
struct Keys {
    public_key: Felt,
    owner: Felt,
    token_name: Felt,
    total_supply: Felt,
    balances_base: Felt,
    slots: Vec<Felt>,
    /// Selectors of [`APP_ENTRY_POINTS`] and [`APP_EVENTS`], and of `Transfer`.
    entry_points: Vec<Felt>,
    events: Vec<Felt>,
    transfer_event: Felt,
}

impl Keys {
    fn new() -> Self {
        let slots_base = selector("slots");
        Self {
            public_key: selector("Account_public_key"),
            owner: selector("Ownable_owner"),
            token_name: selector("ERC20_name"),
            total_supply: selector("ERC20_total_supply"),
            balances_base: selector("ERC20_balances"),
            slots: (0..SLOT_COUNT)
                .map(|index| Pedersen::hash(&slots_base, &Felt::from(index)))
                .collect(),
            entry_points: APP_ENTRY_POINTS.iter().map(|name| selector(name)).collect(),
            events: APP_EVENTS.iter().map(|name| selector(name)).collect(),
            transfer_event: selector("Transfer"),
        }
    }

    /// Key of `owner`'s balance: the low 128 bits of the `u256` in a storage map.
    fn balance(&self, owner: ContractAddress) -> Felt {
        Pedersen::hash(&self.balances_base, &owner.0)
    }
}

/// The world between blocks. Cloning it at block K and continuing with another seed
/// gives a fork that shares blocks 0 to K-1.
#[derive(Clone, Debug)]
pub(super) struct World {
    chain_id: ChainId,
    bootstrap: Account,
    /// Every account, deployed or not; the first `deployed_accounts` are deployed.
    accounts: Vec<Account>,
    deployed_accounts: usize,
    contracts: Vec<ContractAddress>,
    deployer: ContractAddress,
    eth: ContractAddress,
    strk: ContractAddress,
    sequencer: ContractAddress,
    classes: GenesisClasses,
    balances: HashMap<(ContractAddress, ContractAddress), u128>,
    keys: Keys,
    deployments: u64,
}

/// Changes of one block, collected while its transactions are built.
struct BlockBuilder {
    factory: TransactionFactory,
    content: BlockContent,
    storage: BTreeMap<ContractAddress, BTreeMap<Felt, Felt>>,
    nonces: BTreeMap<ContractAddress, Felt>,
    deployed: Vec<DeployedContract>,
    declared: Vec<DeclaredClass>,
    cairo0_declared: Vec<ClassHash>,
}

impl BlockBuilder {
    fn write(&mut self, contract: ContractAddress, key: Felt, value: Felt) {
        self.storage.entry(contract).or_default().insert(key, value);
    }

    fn introduce_class(&mut self, class: &SynthClass) {
        match class.compiled_class_hash {
            Some(compiled_class_hash) => self.declared.push(DeclaredClass {
                class_hash: class.hash,
                compiled_class_hash,
            }),
            None => self.cairo0_declared.push(class.hash),
        }
        self.content.new_classes.push(class.clone());
    }

    /// Returns the content with the state diff in address order.
    fn finish(mut self) -> BlockContent {
        self.content.state_diff = StateDiff {
            storage_diffs: self
                .storage
                .into_iter()
                .map(|(address, writes)| ContractStorageDiff {
                    address,
                    entries: writes
                        .into_iter()
                        .map(|(key, value)| StorageEntry {
                            key: StorageKey(key),
                            value,
                        })
                        .collect(),
                })
                .collect(),
            nonces: self
                .nonces
                .into_iter()
                .map(|(contract_address, nonce)| NonceUpdate {
                    contract_address,
                    nonce,
                })
                .collect(),
            deployed_contracts: self.deployed,
            replaced_classes: Vec::new(),
            declared_classes: self.declared,
            deprecated_declared_classes: self.cairo0_declared,
            migrated_compiled_classes: Vec::new(),
        };
        self.content
    }
}

/// Outcome of a transaction, for its receipt.
struct Outcome {
    events: Vec<Event>,
    messages: Vec<L2ToL1Message>,
    revert_reason: Option<String>,
}

impl Outcome {
    fn succeeded(events: Vec<Event>) -> Self {
        Self {
            events,
            messages: Vec::new(),
            revert_reason: None,
        }
    }
}

impl World {
    /// Creates the world of a chain: keys, classes and addresses, all drawn from `seed`.
    pub(super) fn new(seed: u64, chain_id: ChainId) -> anyhow::Result<Self> {
        let mut rng = Rng::new(seed);
        let entry_points: Vec<Felt> = APP_ENTRY_POINTS.iter().map(|name| selector(name)).collect();
        let account_entry_points = [selector("__execute__"), selector("__validate__")];
        let poseidon = CompiledClassHashVersion::Poseidon;
        let classes = GenesisClasses {
            account_cairo0: cairo0_class(
                "bootstrap_account",
                rng.next_u64(),
                &account_entry_points,
            )?,
            deployer_cairo0: cairo0_class(
                "deployer",
                rng.next_u64(),
                &[selector("deployContract")],
            )?,
            token_cairo0: cairo0_class("fee_token", rng.next_u64(), &[selector("transfer")])?,
            app_cairo0: cairo0_class("legacy_app", rng.next_u64(), &entry_points)?,
            account_sierra: sierra_class(
                "account",
                rng.next_u64(),
                &account_entry_points,
                poseidon,
            )?,
            app_sierra: [
                sierra_class("app_a", rng.next_u64(), &entry_points, poseidon)?,
                sierra_class("app_b", rng.next_u64(), &entry_points, poseidon)?,
            ],
        };

        let bootstrap = Account::new(rng.felt(), rng.felt(), classes.account_cairo0.hash, false);
        let account_count = ACCOUNTS_PER_SETUP_BLOCK * SETUP_BLOCKS as usize;
        let accounts = (0..account_count)
            .map(|index| {
                Account::new(
                    rng.felt(),
                    rng.felt(),
                    classes.account_sierra.hash,
                    index % V1_ACCOUNT_EVERY == V1_ACCOUNT_EVERY - 1,
                )
            })
            .collect();
        let predeployed = |rng: &mut Rng, class: &SynthClass| {
            contract_address(Felt::ZERO, rng.felt(), class.hash, &[])
        };
        let deployer = predeployed(&mut rng, &classes.deployer_cairo0);
        let eth = predeployed(&mut rng, &classes.token_cairo0);
        let strk = predeployed(&mut rng, &classes.token_cairo0);

        Ok(Self {
            chain_id,
            bootstrap,
            accounts,
            deployed_accounts: 0,
            contracts: Vec::new(),
            deployer,
            eth,
            strk,
            sequencer: ContractAddress(rng.felt()),
            classes,
            balances: HashMap::new(),
            keys: Keys::new(),
            deployments: 0,
        })
    }

    /// Draws the header fields of block `number`: a timestamp six to eight seconds after
    /// the previous one and gas prices that vary from block to block.
    pub(super) fn block_env(&self, number: u64, rng: &mut Rng) -> BlockEnv {
        let timestamp = GENESIS_TIMESTAMP + number * 7 + rng.below(2);
        let mut prices = |wei_low: u64, wei_high: u64| starling_storage::GasPrices {
            price_in_wei: Felt::from(rng.range(wei_low, wei_high)),
            price_in_fri: Felt::from(rng.range(wei_low, wei_high) * 1_000),
        };
        BlockEnv {
            number: starling_storage::BlockNumber(number),
            timestamp,
            sequencer_address: self.sequencer,
            l1_gas_price: prices(1_000_000_000, 3_000_000_000),
            l1_data_gas_price: prices(1, 100_000),
            l2_gas_price: prices(10_000, 30_000),
            starknet_version: STARKNET_VERSION,
        }
    }

    /// Builds the transactions, receipts and state diff of one block.
    pub(super) fn build_block(
        &mut self,
        env: &BlockEnv,
        rng: &mut Rng,
    ) -> anyhow::Result<BlockContent> {
        let fees = FeeTerms {
            l1_gas_price: env.l1_gas_price,
            l1_data_gas_price: env.l1_data_gas_price,
            l2_gas_price: env.l2_gas_price,
        };
        let mut builder = BlockBuilder {
            factory: TransactionFactory {
                chain_id: self.chain_id,
                context: HashContext {
                    block_number: env.number,
                    starknet_version: StarknetVersion::parse(env.starknet_version)?,
                },
                fees,
            },
            content: BlockContent::default(),
            storage: BTreeMap::new(),
            nonces: BTreeMap::new(),
            deployed: Vec::new(),
            declared: Vec::new(),
            cairo0_declared: Vec::new(),
        };

        let number = env.number.0;
        if number == 0 {
            self.genesis(&mut builder, rng)?;
        } else if number <= SETUP_BLOCKS {
            self.setup(&mut builder, number, rng)?;
        } else {
            if number % DECLARE_INTERVAL == 0 {
                self.declare_new_class(&mut builder, number, rng)?;
            }
            for _ in 0..rng.range(4, 12) {
                self.activity(&mut builder, rng)?;
            }
        }
        Ok(builder.finish())
    }

    fn genesis(&mut self, builder: &mut BlockBuilder, rng: &mut Rng) -> anyhow::Result<()> {
        let classes = self.classes.clone();
        let predeployed = [
            (self.bootstrap.address, &classes.account_cairo0),
            (self.deployer, &classes.deployer_cairo0),
            (self.eth, &classes.token_cairo0),
            (self.strk, &classes.token_cairo0),
        ];
        for (address, class) in predeployed {
            builder.deployed.push(DeployedContract {
                address,
                class_hash: class.hash,
            });
        }
        for class in [
            &classes.account_cairo0,
            &classes.deployer_cairo0,
            &classes.token_cairo0,
        ] {
            builder.introduce_class(class);
        }

        builder.write(
            self.bootstrap.address,
            self.keys.public_key,
            self.bootstrap.public_key,
        );
        for (token, name) in [(self.eth, "Ether"), (self.strk, "Starknet Token")] {
            builder.write(
                token,
                self.keys.token_name,
                Felt::from_bytes_be_slice(name.as_bytes()),
            );
            builder.write(token, self.keys.total_supply, Felt::from(INITIAL_SUPPLY));
            self.set_balance(builder, token, self.bootstrap.address, INITIAL_SUPPLY);
        }

        let mut bootstrap = self.bootstrap.clone();
        let transaction = builder
            .factory
            .declare_v1(&mut bootstrap, classes.app_cairo0.hash)?;
        builder.introduce_class(&classes.app_cairo0);
        self.push(
            builder,
            transaction,
            &bootstrap,
            Outcome::succeeded(Vec::new()),
            rng,
        );

        let sierra = [
            (&classes.account_sierra, false),
            (&classes.app_sierra[0], true),
            (&classes.app_sierra[1], true),
        ];
        for (class, version_3) in sierra {
            let compiled_class_hash = class.compiled_class_hash.expect("Sierra classes have one");
            let transaction = builder.factory.declare_sierra(
                &mut bootstrap,
                class.hash,
                compiled_class_hash,
                version_3,
                0,
            )?;
            builder.introduce_class(class);
            self.push(
                builder,
                transaction,
                &bootstrap,
                Outcome::succeeded(Vec::new()),
                rng,
            );
        }
        self.bootstrap = bootstrap;
        Ok(())
    }

    fn setup(
        &mut self,
        builder: &mut BlockBuilder,
        number: u64,
        rng: &mut Rng,
    ) -> anyhow::Result<()> {
        let start = (number as usize - 1) * ACCOUNTS_PER_SETUP_BLOCK;
        let new_accounts: Vec<usize> = (start..start + ACCOUNTS_PER_SETUP_BLOCK).collect();

        // The bootstrap account funds the accounts before they pay for their deployment.
        let transfer = selector("transfer");
        let mut calldata = vec![Felt::from(new_accounts.len() * 2)];
        let mut events = Vec::new();
        for &index in &new_accounts {
            let recipient = self.accounts[index].address;
            for token in [self.eth, self.strk] {
                calldata.extend([
                    token.0,
                    transfer,
                    Felt::THREE,
                    recipient.0,
                    Felt::from(ACCOUNT_FUNDING),
                    Felt::ZERO,
                ]);
                events.push(self.move_tokens(
                    builder,
                    token,
                    self.bootstrap.address,
                    recipient,
                    ACCOUNT_FUNDING,
                ));
            }
        }
        let mut bootstrap = self.bootstrap.clone();
        let transaction = builder.factory.invoke(&mut bootstrap, calldata, 0)?;
        self.push(
            builder,
            transaction,
            &bootstrap,
            Outcome::succeeded(events),
            rng,
        );

        for &index in &new_accounts {
            let mut account = self.accounts[index].clone();
            let class_hash = self.classes.account_sierra.hash;
            let transaction =
                builder
                    .factory
                    .deploy_account(&mut account, class_hash, rng.below(3))?;
            builder.deployed.push(DeployedContract {
                address: account.address,
                class_hash,
            });
            builder.write(account.address, self.keys.public_key, account.public_key);
            let owner_added = Event {
                from_address: account.address,
                keys: vec![selector("OwnerAdded"), account.public_key],
                data: vec![],
            };
            // DEPLOY_ACCOUNT pays in fri because it is version 3, whatever the account
            // sends later.
            let mut payer = account.clone();
            payer.sends_v1 = false;
            self.push(
                builder,
                transaction,
                &payer,
                Outcome::succeeded(vec![owner_added]),
                rng,
            );
            self.accounts[index] = account;
        }
        self.deployed_accounts = start + ACCOUNTS_PER_SETUP_BLOCK;

        for _ in 0..DEPLOY_TRANSACTIONS_PER_SETUP_BLOCK {
            self.deploy_contracts(builder, &mut bootstrap, rng)?;
        }
        self.bootstrap = bootstrap;
        Ok(())
    }

    /// Adds an invoke by the bootstrap account that deploys application contracts
    /// through the deployer, cycling through the application classes.
    fn deploy_contracts(
        &mut self,
        builder: &mut BlockBuilder,
        bootstrap: &mut Account,
        rng: &mut Rng,
    ) -> anyhow::Result<()> {
        let app_classes = [
            self.classes.app_cairo0.hash,
            self.classes.app_sierra[0].hash,
            self.classes.app_sierra[1].hash,
        ];
        let deploy_selector = selector("deployContract");
        let mut calldata = vec![Felt::from(CONTRACTS_PER_DEPLOY_TRANSACTION)];
        let mut events = Vec::new();
        for _ in 0..CONTRACTS_PER_DEPLOY_TRANSACTION {
            let class_hash = app_classes[(self.deployments % 3) as usize];
            self.deployments += 1;
            let salt = rng.felt();
            let owner = self.accounts[rng.below(self.deployed_accounts as u64) as usize].address;
            let address = contract_address(Felt::ZERO, salt, class_hash, &[owner.0]);
            // deployContract(class_hash, salt, unique = false, calldata = [owner])
            calldata.extend([
                self.deployer.0,
                deploy_selector,
                Felt::from(5u8),
                class_hash.0,
                salt,
                Felt::ZERO,
                Felt::ONE,
                owner.0,
            ]);
            events.push(Event {
                from_address: self.deployer,
                keys: vec![selector("ContractDeployed")],
                data: vec![
                    address.0,
                    bootstrap.address.0,
                    Felt::ZERO,
                    class_hash.0,
                    Felt::ONE,
                    owner.0,
                    salt,
                ],
            });
            builder.deployed.push(DeployedContract {
                address,
                class_hash,
            });
            builder.write(address, self.keys.owner, owner.0);
            self.contracts.push(address);
        }
        let transaction = builder.factory.invoke(bootstrap, calldata, 0)?;
        self.push(
            builder,
            transaction,
            bootstrap,
            Outcome::succeeded(events),
            rng,
        );
        Ok(())
    }

    /// Adds a declaration of a new class, cycling through DECLARE v3 (Sierra), v2
    /// (Sierra) and v1 (Cairo 0). Accounts that send v1 send the v1 and v2 declarations.
    fn declare_new_class(
        &mut self,
        builder: &mut BlockBuilder,
        number: u64,
        rng: &mut Rng,
    ) -> anyhow::Result<()> {
        let kind = (number / DECLARE_INTERVAL) % 3;
        let sends_v1 = kind != 0;
        let candidates: Vec<usize> = (0..self.deployed_accounts)
            .filter(|&index| self.accounts[index].sends_v1 == sends_v1)
            .collect();
        let index = *rng.pick(&candidates);

        let mut account = self.accounts[index].clone();
        let name = format!("declared_at_{number}");
        let entry_points = [selector("set_value"), selector(&name)];
        let (class, transaction) = if kind == 2 {
            let class = cairo0_class(&name, rng.next_u64(), &entry_points)?;
            let transaction = builder.factory.declare_v1(&mut account, class.hash)?;
            (class, transaction)
        } else {
            let class = sierra_class(
                &name,
                rng.next_u64(),
                &entry_points,
                CompiledClassHashVersion::Poseidon,
            )?;
            let compiled_class_hash = class.compiled_class_hash.expect("Sierra classes have one");
            let transaction = builder.factory.declare_sierra(
                &mut account,
                class.hash,
                compiled_class_hash,
                kind == 0,
                rng.below(3),
            )?;
            (class, transaction)
        };
        builder.introduce_class(&class);
        self.push(
            builder,
            transaction,
            &account,
            Outcome::succeeded(Vec::new()),
            rng,
        );
        self.accounts[index] = account;
        Ok(())
    }

    /// Adds an invoke from a random account that calls 1 to 3 application contracts.
    /// A reverted invoke changes only the nonce and the fee balances.
    fn activity(&mut self, builder: &mut BlockBuilder, rng: &mut Rng) -> anyhow::Result<()> {
        let index = rng.below(self.deployed_accounts as u64) as usize;
        let mut account = self.accounts[index].clone();

        let call_count = rng.range(1, 3) as usize;
        let mut targets: Vec<ContractAddress> = Vec::with_capacity(call_count);
        while targets.len() < call_count {
            let target = *rng.pick(&self.contracts);
            if !targets.contains(&target) {
                targets.push(target);
            }
        }

        let mut calldata = vec![Felt::from(call_count)];
        let mut events = Vec::new();
        let mut writes = Vec::new();
        for &target in &targets {
            let entry_point = *rng.pick(&self.keys.entry_points);
            let arguments: Vec<Felt> = (0..rng.range(1, 3)).map(|_| rng.felt()).collect();
            calldata.extend([target.0, entry_point, Felt::from(arguments.len())]);
            calldata.extend(&arguments);

            for _ in 0..rng.range(1, 3) {
                let key = *rng.pick(&self.keys.slots);
                writes.push((target, key, rng.felt()));
            }
            for _ in 0..rng.range(1, 2) {
                let mut keys = vec![*rng.pick(&self.keys.events)];
                if rng.percent(50) {
                    keys.push(account.address.0);
                }
                let data = (0..rng.range(1, 4)).map(|_| rng.felt()).collect();
                events.push(Event {
                    from_address: target,
                    keys,
                    data,
                });
            }
        }

        let transaction = builder
            .factory
            .invoke(&mut account, calldata, rng.below(5))?;
        let outcome = if rng.percent(3) {
            let entry_point = calldata_entry_point(&transaction);
            Outcome {
                events: Vec::new(),
                messages: Vec::new(),
                revert_reason: Some(format!(
                    "Transaction execution has failed:\n0: Error in the called contract ({:#x}):\nExecution failed. Failure reason: {entry_point:#x} ('assertion failed').",
                    targets[0].0
                )),
            }
        } else {
            for (contract, key, value) in writes {
                builder.write(contract, key, value);
            }
            let messages = if rng.percent(5) {
                let to_address = Felt::from_bytes_be_slice(&rng.felt().to_bytes_be()[12..]);
                vec![L2ToL1Message {
                    from_address: targets[0],
                    to_address,
                    payload: vec![account.address.0, rng.felt()],
                }]
            } else {
                Vec::new()
            };
            Outcome {
                events,
                messages,
                revert_reason: None,
            }
        };
        self.push(builder, transaction, &account, outcome, rng);
        self.accounts[index] = account;
        Ok(())
    }

    /// Charges the fee, records the sender's new nonce and adds the transaction with its
    /// receipt. `sender` is the account after the transaction.
    fn push(
        &mut self,
        builder: &mut BlockBuilder,
        transaction: Transaction,
        sender: &Account,
        mut outcome: Outcome,
        rng: &mut Rng,
    ) {
        let pays_in_fri = transaction.variant.pays_fee_in_fri();
        let gas = draw_gas(rng);
        let fee = builder.factory.fees.fee(gas, pays_in_fri);
        let token = if pays_in_fri { self.strk } else { self.eth };
        let fee_transfer = self.move_tokens(builder, token, sender.address, self.sequencer, fee);
        outcome.events.push(fee_transfer);
        builder
            .nonces
            .insert(sender.address, Felt::from(sender.nonce));

        let receipt = receipt(
            &transaction,
            fee,
            outcome.events,
            outcome.messages,
            outcome.revert_reason,
            gas,
            rng,
        );
        builder.content.transactions.push(transaction);
        builder.content.receipts.push(receipt);
    }

    /// Moves `amount` of `token` and returns the token's `Transfer` event.
    fn move_tokens(
        &mut self,
        builder: &mut BlockBuilder,
        token: ContractAddress,
        from: ContractAddress,
        to: ContractAddress,
        amount: u128,
    ) -> Event {
        let from_balance = self.balance(token, from).saturating_sub(amount);
        let to_balance = self.balance(token, to).saturating_add(amount);
        self.set_balance(builder, token, from, from_balance);
        self.set_balance(builder, token, to, to_balance);
        Event {
            from_address: token,
            keys: vec![self.keys.transfer_event],
            data: vec![from.0, to.0, Felt::from(amount), Felt::ZERO],
        }
    }

    fn balance(&self, token: ContractAddress, owner: ContractAddress) -> u128 {
        self.balances.get(&(token, owner)).copied().unwrap_or(0)
    }

    fn set_balance(
        &mut self,
        builder: &mut BlockBuilder,
        token: ContractAddress,
        owner: ContractAddress,
        amount: u128,
    ) {
        self.balances.insert((token, owner), amount);
        builder.write(token, self.keys.balance(owner), Felt::from(amount));
    }
}

/// Returns the entry point selector of the first call in a multicall calldata.
fn calldata_entry_point(transaction: &Transaction) -> Felt {
    let calldata = match &transaction.variant {
        starling_storage::TransactionVariant::InvokeV1(tx) => &tx.calldata,
        starling_storage::TransactionVariant::InvokeV3(tx) => &tx.calldata,
        _ => return Felt::ZERO,
    };
    calldata.get(2).copied().unwrap_or_default()
}
