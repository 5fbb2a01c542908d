//! Any order and any duplication of alert deliveries, sequential or concurrent, yields one
//! incident per group, and one timeline entry per alert that fired.

use muster_core::alert::parse_alertmanager;
use muster_core::config::Config;
use muster_core::incident::TimelineEvent;
use muster_core::record::ListFilter;
use muster_engine::{Engine, SystemClock};
use proptest::prelude::*;
use std::sync::Arc;

fn delivery(group: u8, alerts: &[u8]) -> Vec<u8> {
    serde_json::json!({
        "version": "4",
        "groupKey": format!("{{}}:{{alertname=\"G{group}\"}}"),
        "status": "firing",
        "commonLabels": {"alertname": format!("G{group}"), "severity": "critical"},
        "commonAnnotations": {"summary": format!("Group {group} is down")},
        "alerts": alerts.iter().map(|a| serde_json::json!({
            "status": "firing",
            "labels": {"alertname": format!("G{group}"), "severity": "critical", "instance": format!("i{a}")},
            "fingerprint": format!("g{group}-a{a}"),
        })).collect::<Vec<_>>(),
    })
    .to_string()
    .into_bytes()
}

async fn run(deliveries: Vec<(u8, Vec<u8>)>, concurrent: bool) {
    let dir = tempfile::tempdir().unwrap();
    let store = muster_store::Store::open(&format!("sqlite://{}/g.db", dir.path().display()))
        .await
        .unwrap();
    let config = Config::from_toml("[alerts.severities]\ncritical = \"SEV1\"\n").unwrap();
    let engine = Arc::new(Engine::new(
        store.clone(),
        Arc::new(config),
        Arc::new(SystemClock),
    ));
    let bodies: Vec<Vec<u8>> = deliveries.iter().map(|(g, a)| delivery(*g, a)).collect();
    if concurrent {
        let mut set = tokio::task::JoinSet::new();
        for b in bodies {
            let e = engine.clone();
            set.spawn(async move {
                let batch = parse_alertmanager(&b).unwrap();
                e.receive_alerts(&batch, String::new()).await.unwrap();
            });
        }
        while let Some(r) = set.join_next().await {
            r.unwrap();
        }
    } else {
        for b in bodies {
            let batch = parse_alertmanager(&b).unwrap();
            engine.receive_alerts(&batch, String::new()).await.unwrap();
        }
    }
    let groups: std::collections::BTreeSet<u8> = deliveries.iter().map(|(g, _)| *g).collect();
    let incidents = store
        .all(&ListFilter {
            limit: 1000,
            ..ListFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(incidents.len(), groups.len(), "one incident per group");
    for i in incidents {
        let d = store
            .detail(muster_core::IncidentRef::Id(i.id))
            .await
            .unwrap()
            .unwrap();
        let group: u8 = i.title.as_str()["Group ".len()..][..1].parse().unwrap();
        let alerts: std::collections::BTreeSet<u8> = deliveries
            .iter()
            .filter(|(g, _)| *g == group)
            .flat_map(|(_, a)| a.iter().copied())
            .collect();
        let fired = d
            .timeline
            .iter()
            .filter(|e| matches!(e.event, TimelineEvent::AlertFiring { .. }))
            .count();
        assert_eq!(fired, alerts.len(), "one entry per alert of group {group}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn any_permutation_and_duplication_yields_one_incident_per_group(
        deliveries in proptest::collection::vec(
            (0u8..3, proptest::collection::vec(0u8..4, 1..3)),
            1..12,
        ),
        concurrent in any::<bool>(),
    ) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(run(deliveries, concurrent));
    }
}
