//! The node's flags can also be set with `STARLING_*` environment variables.

use std::process::Command;

/// Runs the binary with `variables` set and no flags, and returns its exit status and
/// standard error. The node exits before opening a database because the value is
/// invalid.
fn run_with_env(variables: &[(&str, &str)]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_starling"))
        .envs(variables.iter().copied())
        .output()
        .expect("starling binary starts");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn environment_sets_fetch_ahead() {
    let (success, stderr) = run_with_env(&[("STARLING_FETCH_AHEAD", "0")]);
    assert!(!success);
    assert!(stderr.contains("--fetch-ahead"), "{stderr}");
    assert!(stderr.contains("1..=1024"), "{stderr}");
}

#[test]
fn environment_sets_ports_and_limits() {
    let (success, stderr) = run_with_env(&[("STARLING_HTTP_PORT", "not-a-port")]);
    assert!(!success);
    assert!(stderr.contains("--http-port"), "{stderr}");

    let (success, stderr) = run_with_env(&[("STARLING_WS_MAX_CONNECTIONS", "many")]);
    assert!(!success);
    assert!(stderr.contains("--ws-max-connections"), "{stderr}");
}

#[test]
fn help_lists_environment_variables() {
    let output = Command::new(env!("CARGO_BIN_EXE_starling"))
        .arg("--help")
        .output()
        .expect("starling binary starts");
    let help = String::from_utf8_lossy(&output.stdout);
    for variable in [
        "STARLING_FETCH_AHEAD",
        "STARLING_METRICS_PORT",
        "STARLING_PRE_CONFIRMED_POLL_MS",
        "STARLING_RPC_MAX_BATCH_SIZE",
        "STARLING_WS_MAX_STALL_SECS",
        "STARLING_GATEWAY_TIMEOUT_MS",
    ] {
        assert!(help.contains(variable), "--help does not list {variable}");
    }
}
