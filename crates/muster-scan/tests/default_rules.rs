//! Positive and negative cases for every rule of the default ruleset.
//! All secrets here are fake, generated for these tests.

use muster_scan::Scanner;

/// (rule id, texts it must find, texts it must not find)
const CASES: &[(&str, &[&str], &[&str])] = &[
    (
        "aws-access-key-id",
        &[
            "aws_access_key_id = AKIA76E2GZJFKZR2ST2D",
            "{\"key\":\"ASIATW22BXMZZNA3K3HF\"}",
        ],
        &[
            "AKIAIOSFODNN7EXAMPLE",
            "AKIAZX5KIADJZFXKJWS too short",
            "XAKIAKKEGY7MTIC6UDYFK",
            "AKIAAAAAAAAAAAAAAAAA",
        ],
    ),
    (
        "aws-secret-access-key",
        &[
            "export AWS_SECRET_ACCESS_KEY=czZ8XbFzUxtPTfYFEpPx6n1nf2xv54WCA/7e56W8",
            "aws_secret_key: \"zNIQt3uL4FFQKoKGwRDIOYQ/kVcIsgUpj6Sg9ahe\"",
        ],
        &[
            "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "AWS_SECRET_ACCESS_KEY=UXCMLZKo7RrU5YKyyQHxhDo2X93cjhls45GQio2",
            "AWS_SECRET_ACCESS_KEY=${AWS_SECRET}",
        ],
    ),
    (
        "gcp-api-key",
        &[
            "key=AIzayvhwvSuqK4dWGlgnoAEcTl31uGQ-dFCGAtm",
            "\"apiKey\": \"AIzaNtc0mRau8URBfT5MISizhBHs4_fVAFHDzXe\"",
        ],
        &[
            "AIzaUHNBZS0Z1WnImG9Aw37K",
            "AIzaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        ],
    ),
    (
        "gcp-oauth-client-secret",
        &["client_secret=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"],
        &["GOCSPX-w88AD3dnby"],
    ),
    (
        "gcp-service-account-key-id",
        &["  \"private_key_id\": \"25410335b400141212b62c376631129f34369aad\","],
        &[
            "  \"private_key_id\": \"80b891baf90d0d3bf162\",",
            "\"private_key_id\": null",
        ],
    ),
    (
        "azure-storage-account-key",
        &[
            "DefaultEndpointsProtocol=https;AccountName=prodlogs;AccountKey=kV3AZkGAs+M+X/shUkbd/VOK+NptMzyL2Dvamh2Vwd6QEspT5pV74gdQq7eYimTTfpsUepYhNVNZxTSmm3jZNN==;EndpointSuffix=core.windows.net",
        ],
        &[
            "AccountKey=<your-key>",
            "AccountKey=RN4YdCAZ2ybsOgoSdBJQmvZAvP62bsklvpa2Oqup==",
        ],
    ),
    (
        "azure-ad-client-secret",
        &["AZURE_CLIENT_SECRET=44x8Q~dXP63ohM1fzUg296C0XpBx_NEgbUZsM6a8"],
        &["value gBo8Q~short", "Q~ alone"],
    ),
    (
        "azure-sas-token",
        &[
            "GET https://acct.blob.core.windows.net/c/b?sv=2022-11-02&ss=b&srt=o&sp=r&se=2026-01-01&sig=y1XhVav8dNrLZgw7HunWoDQRYZDAEa6aosrWlQGOTvZ%3D",
        ],
        &[
            "sv=2022-11-02&sig=short",
            "sig=89hOz9ZdNKI7xEzzoMepjuO09JWqo10y0adSwjpIx1e",
        ],
    ),
    (
        "github-token",
        &[
            "GITHUB_TOKEN=ghp_wY2orTyRqBRlEaZUZrwpPtuEFBNOfQ5xj7t2",
            "Authorization: token gho_ydf0K5uY8iH1wOLaQan8ePsqMgLj2olXCwYj",
            "ghs_n5zYIkN5SMYfQ55JYO1tmFSnHfV1CQ4hJhqA",
        ],
        &[
            "ghp_o0iEFJdED5jSFpFkIM3V",
            "ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "xghp_ak1uDSKFQs1DxBA9RelOxOPbbNcRV7vZgGEF",
        ],
    ),
    (
        "github-fine-grained-pat",
        &[
            "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",
        ],
        &["github_pat_YG6INyNjORSSM4RfncQODOWlgQl3cA"],
    ),
    (
        "gitlab-token",
        &[
            "glpat-MBvRnhmX1EoC3G_FP1z5",
            "CI_JOB_TOKEN glrt-IBxT80NK8bTB2ABPLbPQ8Cjf",
        ],
        &["glpat-5XGuSKl_6g", "glpat-xxxxxxxxxxxxxxxxxxxx"],
    ),
    (
        "slack-token",
        &[
            "SLACK_REFRESH=xoxe-1-My0xLTIwMTc2ODQxOTQ4LTI4NTY0MTU5NzA0NzktaEZnNHExRFIwNFBtRXNHbVQ2NVI4U3JE",
            "config xoxe.xoxp-1-Mi0yLTIwMTc2ODQxOTQ4LTI4NTY0MTU5NzA0NzktaEZnNHExRFIwNFBtRXNHbVQ2NVI4U3JE",
            "legacy xoxa-2-201768419481-285641597047-hFg4q1DR04PmEsGmT65R8SrDabcd",
            "xoxr-201768419481-hFg4q1DR04PmEsGmT65R8SrD_hFg4q1DR04PmEsGmT65R8SrD",
            "xoxb-000009164492-7905597722152-OZAEyXYC8rYWKvsrdNPTZ0Mv",
            "token=xoxp-902949636669-374054462904-2924875818876-6791ce680ce2b27c8af6666259bbc471",
        ],
        &["xoxb-123", "xoxb-notatoken", "xoxb-751571259054-short"],
    ),
    (
        "slack-webhook-url",
        &["https://hooks.slack.com/services/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"],
        &[
            "https://hooks.slack.com/services/",
            "hooks.slack.com is down",
        ],
    ),
    (
        "private-key",
        &[
            "-----BEGIN RSA PRIVATE KEY-----\n6umfXfKm/r5kJP1VrT+1FJors/6ILi8IHn5kxsC7tVO/HbkQfyy/KV5zjR3j1twd\nTKWTddB+XhkAS1voQG6yyzyN9zHYIa4UOrGNATMuDJawTgsu8PO+799nKSNrh9UC\nauSDmLhuVtcqcYezdZ/tDDj8hYs5suKcNd8Zra9A9sKPxZ9W3qLy7zKUVQDT7S8s\nTQCBNR3YbDgbleph1QHt61QTC4XATWS8PHp9NHfYjFM5DI4pZj59fhZ5R1Py4oJe\n2JbmPTuSgR7cMy+UcU3zr1ZtoLuCr64CxqlIOdNKhiFXiQ2hzT/pLjHX2JiCLhKc\nIhP6Br1iQFeOUhGXZnnal5WisCgEBCY8f5N3/ynbdrZRzsGQBJg3UHKwkflF6XUi\n5AhuqpfEnbtXAqwK8jZfALhLSzFyCmmdKTxp/TkSF2RCdKDFRuNw5GCf+hA6ILI8\ngJhead6/wJ9kFZJSqgmRB9H+iMb+lk777PZnK8Cl6J5ixaaJLShuQjOud/+yDUA+\n-----END RSA PRIVATE KEY-----",
            "\"private_key\": \"-----BEGIN PRIVATE KEY-----\\n5zmS1swoPqApryPZBlgvIyxJu2jGjNGkTfi3oYv2DzaKG05Rk+GQV81rkmghzem9\\nyPVUJa/c5q52RYfLWrLoevhZC0x0awirH/juQbLifxz53nCQE28+AJy75fNcTTN6\\nKFAQdEmQg3OMJmYxhcABm6jof8efD0nHCY/1Kgd2vd/Er1uyZAlIa/ZnYd7chlN/\\nXc+1HSyGbDS1GHXy5oOKVqYX7Enwvq4VNAKjKs1Pawtn3LG8Zv5Ypu8D0fzFwE7I\\nHgYIruiqFhojmAIDdN87xg3/Q/XBmTepo6uKZyUf0IE9pU2NJhKaM1/5WdR16ePl\\nljivghZ4fXfeTkYpIygfdM7ENA8d5vFldPGYYJvW5hANsbEvrSFagEaBp0vXnJaE\\n-----END PRIVATE KEY-----\\n\"",
        ],
        &[
            "-----BEGIN RSA PRIVATE KEY-----\nshort\n-----END RSA PRIVATE KEY-----",
            "-----BEGIN PUBLIC KEY-----\n6umfXfKm/r5kJP1VrT+1FJors/6ILi8IHn5kxsC7tVO/HbkQfyy/KV5zjR3j1twd\nTKWTddB+XhkAS1voQG6yyzyN9zHYIa4UOrGNATMuDJawTgsu8PO+799nKSNrh9UC\nauSDmLhuVtcqcYezdZ/tDDj8hYs5suKcNd8Zra9A9sKPxZ9W3qLy7zKUVQDT7S8s\nTQCBNR3YbDgbleph1QHt61QTC4XATWS8PHp9NHfYjFM5DI4pZj59fhZ5R1Py4oJe\n2JbmPTuSgR7cMy+UcU3zr1ZtoLuCr64CxqlIOdNKhiFXiQ2hzT/pLjHX2JiCLhKc\nIhP6Br1iQFeOUhGXZnnal5WisCgEBCY8f5N3/ynbdrZRzsGQBJg3UHKwkflF6XUi\n5AhuqpfEnbtXAqwK8jZfALhLSzFyCmmdKTxp/TkSF2RCdKDFRuNw5GCf+hA6ILI8\ngJhead6/wJ9kFZJSqgmRB9H+iMb+lk777PZnK8Cl6J5ixaaJLShuQjOud/+yDUA+\n-----END PUBLIC KEY-----",
        ],
    ),
    (
        "jwt",
        &[
            "Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkJ1aWxkIEJvdCIsImlhdCI6MTUxNjIzOTAyMn0.pTyGJMuHbEL31IeL2HPcHyGcFRl1SPnXNYvMIHa_2o7",
            "\"id_token\":\"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkJ1aWxkIEJvdCIsImlhdCI6MTUxNjIzOTAyMn0.pTyGJMuHbEL31IeL2HPcHyGcFRl1SPnXNYvMIHa_2o7\"",
        ],
        &[
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.notajwt",
            "eyJhbGciOiJIUzI1NiJ9",
        ],
    ),
    (
        "database-url-password",
        &[
            "DATABASE_URL=postgres://app:fquKoPf96QGzlC2kx9@db.internal:5432/prod",
            "connecting to mongodb+srv://admin:pUolc8q8wd5J@cluster0.example.net/test",
            "redis://default:5b16dqYGTVPWEdgj@cache:6379",
        ],
        &[
            "postgres://app@db.internal:5432/prod",
            "postgres://user:password@localhost/db",
            "mysql://root:${DB_PASSWORD}@db/app",
            "https://user:pw1234@example.com/",
        ],
    ),
    (
        "stripe-secret-key",
        &[
            "STRIPE_KEY=sk_live_uWa8mRVtLLCWPgEuxqyhxEyk",
            "rk_test_CpZj6R5aDT6mZck71oe7N3x4ViXC9g77y1bOeCvu",
        ],
        &["sk_live_0oEhOxjvoV", "pk_live_dlTCJ4jC3jrAApjbrK1svZkq"],
    ),
    (
        "twilio-api-key",
        &["TWILIO_API_KEY=SKf3aef3416f9386bd8773c9d51940ea4e"],
        &[
            "SK095bd1d6854575622f856469602d1ba9 (no vendor on this line)",
            "twilio api key SKnothex",
        ],
    ),
    (
        "twilio-auth-token",
        &["TWILIO_AUTH_TOKEN=f20df4875b15b0be23b7ac193fe04072"],
        &[
            "auth_token=755398003680e7e3b35183ef8333c477",
            "TWILIO_AUTH_TOKEN=short",
        ],
    ),
    (
        "sendgrid-api-key",
        &["SENDGRID_API_KEY=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"],
        &[
            "msg.send(4s6AKsrpVfVIs1DNSKoPym)",
            "SG.u6m98nDfqcYxyBtUepp-ik.short",
        ],
    ),
    (
        "npm-token",
        &[
            "//registry.npmjs.org/:_authToken=npm_4nsdXbkJeM3wCQdHy1CwVWgHo9RV7jAvQwiR",
            "NPM_TOKEN=npm_mNN2r01HgV2V7WErYOTO6TiA3gaAXJLhFz9K",
        ],
        &["npm_jA2Yr3NMhy2CSDsUwswz", "npm_config_cache=/tmp/npm"],
    ),
    (
        "npm-legacy-auth-token",
        &["//registry.npmjs.org/:_authToken=626ea6b3-986d-7a4c-8e2b-86b886afe7df"],
        &["_authToken=${NPM_TOKEN}", "_authToken=abc"],
    ),
    (
        "pypi-token",
        &[
            "TWINE_PASSWORD=pypi-AgEIcHlwaS5vcmcpA_w4mXmS3wdLqpfpa2BDGg_mn33x7tFs5BIdM0vzTY1-z4rLVuouJnWOlr1",
        ],
        &[
            "pypi-AgEIcHlwaS5vcmcshort",
            "pypi-UlaY0XHNtF0BAnAmyMBDZW_iSZ0PSUNDMJV-73HBpSetjVEiMIsY5xCGcyF4",
        ],
    ),
    (
        "notify-api-key",
        &[
            "NOTIFY_API_KEY=gcntfy-my-service-key-3fd40dd8-3d00-bdf7-9ec3-fd060df93e22-ee4a6e55-28ce-935c-0b42-312f390ff0f4",
            "gcntfy-prod_key-50964e95-2c6c-8a0c-dace-a33c964573f5-d0debe09-ddf2-d709-e61c-32c00193ebab sent",
        ],
        &[
            "gcntfy-name-9a40e1eb-6b1a-b7b4-4dbd-bf127497ef39",
            "gcntfy-name-not-a-uuid",
        ],
    ),
    (
        "authorization-header",
        &[
            "Authorization: Bearer g_Ifxc0nz-CfLWVtwXAlyuOqxqzIP2sfxY7kse3E",
            "curl -H 'Authorization: Basic ZGVwbG95OnJRYnZaanBUaWZtckkxWWlKQ0Qx'",
        ],
        &[
            "the bearer of bad news is unauthorized",
            "Authorization: Bearer aaaaaaaaaaaaaaaaaaaaaaaa",
            "basic authentication-required",
        ],
    ),
    (
        "generic-secret-assignment",
        &[
            "client_secret=YZpkxwnUzyO9Lnt8EGno2CRi8TqM5CLx",
            "DB_PASSWORD='Iu#mYInLckQzktz7'",
            "<password>Iu#mYInLckQzktz7</password>",
            "[\"password\"]=>\"Iu#mYInLckQzktz7\"",
            "\"DB_PASSWORD\",\"Iu#mYInLckQzktz7\"",
            "client_secret=3f2a9c1e-7b4d-4e8a-9c2f-1d5e6b7a8c9d",
        ],
        &[
            "\"token\": \"session-expired-for-user\"",
            "password=hunter2",
            "secret: ${SECRET_FROM_VAULT}",
            "{\"tokens\": 123456789012}",
            "password: true",
            "max_tokens=4096",
            "SECRET_NAME=DATABASE_PASSWORD_PROD",
            "secret_path=/var/run/secrets/app/db.json",
        ],
    ),
    (
        "generic-token-assignment",
        &[
            "{\"level\":\"info\",\"token\": \"IpzMGni3WhRGfI2rVXWybQTKjtayTfSlX2oumQ5g\"}",
            "api_key: XO4O33i7rlbxRZQSw5AbQTSD",
            "Settings{url='x', apiKey='XO4O33i7rlbxRZQSw5AbQTSD'}",
        ],
        &[
            "commit_sha=4f9c2e1d8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d token_count=3",
            "token: 4f9c2e1d8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d",
            "api_key_id=3f2a9c1e-7b4d-4e8a-9c2f-1d5e6b7a8c9d",
            "key=sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "token=xxxxxxxxxxxxxxxxxxxx",
            "private_key_path=/etc/ssl/private/server.key",
        ],
    ),
    (
        "url-password",
        &[
            "git clone https://deploy:Zr8kQ2mVw9xLp4Tb@git.example.com/org/repo.git",
            "ftp://backup:Zr8kQ2mVw9xLp4Tb@files.example.net/dump",
        ],
        &[
            "https://user:password@example.com/",
            "https://example.com/a:b@c",
            "https://user:${PASSWORD}@example.com/",
        ],
    ),
    (
        "openai-api-key",
        &[
            "OPENAI_API_KEY=sk-proj-Ab3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5bC7dE9fG1hJ3kL5mN7pQ9rS1tU3vW5xY7zT3BlbkFJAb3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5bC7dE9fG1hJ3kL5mN7pQ9rS1tU3vW5xY7z",
            "key 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 used",
        ],
        &["sk-proj-short", "task-project-list"],
    ),
    (
        "anthropic-api-key",
        &[
            "x-api-key: sk-ant-api03-Ab3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5bC7dE9fG1hJ3kL5mN7pQ9rS1tU3vW5xY7z-Ab3dE5fG7hJ9kL1mN3pQAA",
        ],
        &["sk-ant-api03-short", "desk-ant-api"],
    ),
];

#[test]
fn every_default_rule_has_cases() {
    let scanner = Scanner::with_default_rules();
    for rule in &scanner.rules().rules {
        let case = CASES.iter().find(|c| c.0 == rule.id);
        let (_, pos, neg) = case.unwrap_or_else(|| panic!("no test cases for rule {}", rule.id));
        assert!(
            !pos.is_empty() && !neg.is_empty(),
            "rule {} needs positive and negative cases",
            rule.id
        );
    }
}

#[test]
fn positives_are_found_by_their_rule() {
    let scanner = Scanner::with_default_rules();
    let mut failures = Vec::new();
    for (rule, pos, _) in CASES {
        for (i, text) in pos.iter().enumerate() {
            let findings = scanner.scan_bytes(text.as_bytes(), "case.log");
            if !findings.iter().any(|f| f.rule_id == *rule) {
                let got: Vec<&str> = findings.iter().map(|f| f.rule_id.as_str()).collect();
                failures.push(format!("{rule} positive #{i}: got {got:?}"));
            }
            // The report never contains the secret text itself.
            for f in &findings {
                let shown = serde_json::to_string(f).unwrap();
                assert!(shown.len() < 600, "finding too large");
                assert!(
                    !shown.contains(&text[text.len().saturating_sub(12)..]) || text.len() < 24,
                    "{rule} #{i} leaks its tail"
                );
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn negatives_are_not_found_by_their_rule() {
    let scanner = Scanner::with_default_rules();
    let mut failures = Vec::new();
    for (rule, _, neg) in CASES {
        for (i, text) in neg.iter().enumerate() {
            let findings = scanner.scan_bytes(text.as_bytes(), "case.log");
            if findings.iter().any(|f| f.rule_id == *rule) {
                failures.push(format!("{rule} negative #{i}"));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
