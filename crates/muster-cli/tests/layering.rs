//! The layering rules of `docs/architecture.md`, checked from `cargo metadata`: adapters
//! reach the record only through the engine, so no adapter crate may depend on the store.
//! A dev-dependency is allowed (tests look behind the engine); a normal or build one is not.

use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Command;

/// Each workspace crate's normal and build dependencies on other workspace crates.
fn workspace_deps() -> BTreeMap<String, Vec<String>> {
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut deps = BTreeMap::new();
    for p in meta["packages"].as_array().unwrap() {
        let name = p["name"].as_str().unwrap().to_owned();
        let on: Vec<String> = p["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            // `kind` is null for normal dependencies, "dev" or "build" otherwise.
            .filter(|d| d["kind"].as_str() != Some("dev"))
            .filter_map(|d| d["name"].as_str())
            .filter(|n| n.starts_with("muster"))
            .map(str::to_owned)
            .collect();
        deps.insert(name, on);
    }
    deps
}

#[test]
fn only_the_engine_and_the_binary_depend_on_the_store() {
    let deps = workspace_deps();
    assert!(deps.len() >= 8, "all workspace crates were read: {deps:?}");
    let on_store: Vec<&str> = deps
        .iter()
        .filter(|(_, on)| on.iter().any(|d| d == "muster-store"))
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(
        on_store,
        ["muster", "muster-engine"],
        "adapters reach the record only through the engine"
    );
}

#[test]
fn the_core_depends_on_no_other_crate_of_ours_and_the_scanner_stands_alone() {
    let deps = workspace_deps();
    assert_eq!(deps["muster-core"], Vec::<String>::new());
    assert_eq!(deps["muster-scan"], Vec::<String>::new());
    assert_eq!(deps["muster-store"], ["muster-core"]);
}

#[test]
fn only_the_slack_adapter_and_the_server_name_slack() {
    let deps = workspace_deps();
    let on_slack: Vec<&str> = deps
        .iter()
        .filter(|(_, on)| on.iter().any(|d| d == "muster-slack"))
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(on_slack, ["muster", "muster-server", "muster-testkit"]);
    for c in ["muster-core", "muster-engine", "muster-store"] {
        assert!(!deps[c].iter().any(|d| d == "muster-slack"), "{c}");
    }
}
