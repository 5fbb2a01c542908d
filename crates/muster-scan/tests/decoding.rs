//! Secrets behind escape sequences and encodings are found, named by their own rule.
//! All secrets here are fake.

use muster_scan::Scanner;

fn rules_found(text: &str) -> Vec<String> {
    Scanner::with_default_rules()
        .scan_bytes(text.as_bytes(), "t.log")
        .into_iter()
        .map(|f| f.rule_id)
        .collect()
}

#[test]
fn escape_sequences_are_boundaries() {
    let tok = "ghr_Xq3mZp8LwR2vN7tY4kB9sD1fG6hJ0cV5aE8u";
    for text in [
        format!(r#"body="{{\x22token\x22:\x22{tok}\x22}}""#),
        format!(r#"{{"b":"\u0022{tok}\u0022"}}"#),
        format!("q=%22{tok}%22"),
        format!("v=&quot;{tok}&quot;"),
        format!("%5Cx22{tok}%5Cx22"),
    ] {
        assert_eq!(rules_found(&text), vec!["github-token"], "{text}");
    }
}

#[test]
fn escaped_assignments_are_assignments() {
    for text in [
        r"cfg=\x22password\x22:\x22Zr8#kQ2mVw9xLp4T\x22",
        "form=client_secret%3DZr8kQ2mVw9xLp4TbN7",
        "x=&quot;db_password&quot;:&quot;Zr8kQ2mVw9xLp4TbN7&quot;",
    ] {
        assert_eq!(
            rules_found(text),
            vec!["generic-secret-assignment"],
            "{text}"
        );
    }
}

#[test]
fn base64_is_decoded_and_the_specific_rule_named() {
    // Basic ci-bot:ghp_… ; a Kubernetes Secret value; base64 JSON.
    let basic =
        "Authorization: Basic Y2ktYm90OmdocF9YcTNtWnA4THdSMnZON3RZNGtCOXNEMWZHNmhKMGNWNWFFOHU=";
    assert_eq!(rules_found(basic), vec!["github-token"]);
    let k8s = "apiVersion: v1\nkind: Secret\ndata:\n  token: Z2hwX1hxM21acDhMd1Iydk43dFk0a0I5c0QxZkc2aEowY1Y1YUU4dQ==\n";
    assert_eq!(rules_found(k8s), vec!["github-token"]);
    let json = "event=eyJ0b2tlbiI6ImdocF9YcTNtWnA4THdSMnZON3RZNGtCOXNEMWZHNmhKMGNWNWFFOHUifQ==";
    assert_eq!(rules_found(json), vec!["github-token"]);
}

#[test]
fn hex_digests_and_uuids_beside_key_or_token_are_not_secrets() {
    for text in [
        "commit_sha=4f9c2e1d8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d token refresh",
        "cache token: 4f9c2e1d8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d hit=true",
        "api_key_id=3f2a9c1e-7b4d-4e8a-9c2f-1d5e6b7a8c9d",
        "key=sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "password: ********",
        "token=xxxxxxxxxxxxxxxxxxxx",
        "Authorization: Bearer <token>",
        "API_KEY=${API_KEY}",
    ] {
        assert!(
            rules_found(text).is_empty(),
            "{text}: {:?}",
            rules_found(text)
        );
    }
    // …unless the name says secret, password or credential.
    assert_eq!(
        rules_found("client_secret=3f2a9c1e-7b4d-4e8a-9c2f-1d5e6b7a8c9d"),
        vec!["generic-secret-assignment"]
    );
}

#[test]
fn a_decoded_value_keeps_the_name_before_it() {
    // base64 of an unprefixed Notify key: only the name (`notify_api_key`) tells it apart.
    let k8s = "kind: Secret\ndata:\n  notify_api_key: bXkua2V5LTUxY2NiOTAxLTA4NjctNGFjMC1hYmQzLThjOTExMGEzMmMxYi0yOTU5ZmQ2MS01NDlkLTRkM2MtYTZlZi03MzljZDNmOTA3MDk=\n";
    assert_eq!(rules_found(k8s), vec!["notify-api-key"]);
}
