//! Locating the recorded feeder-gateway responses that tests read.

use std::path::{Path, PathBuf};

/// Returns the recordings folder (`STARLING_FGW_DIR`, by default `shared/fgw` beside the
/// checkout), or `None` after printing why the calling test is skipped. With
/// `STARLING_REQUIRE_DATA=1` a missing folder fails the test instead.
pub fn recordings_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("STARLING_FGW_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fgw")));
    if dir.is_dir() {
        return Some(dir);
    }

    let message = format!(
        "skipped: feeder-gateway recordings not found at {} (set STARLING_FGW_DIR)",
        dir.display()
    );
    if std::env::var("STARLING_REQUIRE_DATA").as_deref() == Ok("1") {
        panic!("{message}");
    }
    eprintln!("{message}");
    None
}

/// Lists every `.json` file below `dir`, sorted.
pub fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path
                .extension()
                .is_some_and(|extension| extension == "json")
            {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}
