//! Paging through the engine's queue against the PagerDuty fake: a SEV1 pages once even
//! after 429 and 500 answers, resolving resolves the same key, a SEV3 pages only when
//! raised, security incidents page with a neutral summary, drills never page.

use chrono::{TimeZone, Utc};
use muster_core::config::Config;
use muster_core::{IncidentRef, Secret};
use muster_engine::workflow::Worker;
use muster_engine::{Declaration, Engine, FixedClock};
use muster_pagerduty::{PagerDutyPlanner, PagerDutyRunner};
use muster_testkit::{PagerDutySim, PdAlertState};
use std::sync::Arc;

const KEY: &str = "R0UT1NGKEY0123456789abcdefABCDEF";

struct Rig {
    engine: Arc<Engine>,
    worker: Worker,
    clock: Arc<FixedClock>,
    pd: PagerDutySim,
    _dir: tempfile::TempDir,
}

async fn rig() -> Rig {
    let pd = PagerDutySim::start().await;
    let dir = tempfile::tempdir().unwrap();
    let store = muster_store::Store::open(&format!("sqlite://{}/p.db", dir.path().display()))
        .await
        .unwrap();
    let config = Config::from_toml(&format!(
        "[server]\npublic_url = \"https://muster.example.org\"\n[paging.pagerduty]\nevents_url = \"{}\"\nseverities = [\"SEV1\", \"SEV2\"]\n",
        pd.events_url()
    ))
    .unwrap();
    let pdc = config.pagerduty.clone().unwrap();
    let clock = Arc::new(FixedClock::new(
        Utc.with_ymd_and_hms(2026, 11, 26, 14, 0, 0).unwrap(),
    ));
    let engine = Arc::new(
        Engine::new(store, Arc::new(config.clone()), clock.clone())
            .with_planner(Arc::new(PagerDutyPlanner::new(&config, &pdc))),
    );
    let runner =
        PagerDutyRunner::new(&pdc, Secret::new(KEY), config.server.public_url.clone()).unwrap();
    let worker = Worker::new(engine.clone()).with_runner(Arc::new(runner));
    Rig {
        engine,
        worker,
        clock,
        pd,
        _dir: dir,
    }
}

impl Rig {
    /// Run due steps until none is left, moving the clock past every retry delay.
    async fn drain(&self) {
        for _ in 0..20 {
            self.worker.run_once().await.unwrap();
            self.clock.advance(chrono::Duration::minutes(6));
        }
    }

    async fn declare(
        &self,
        title: &str,
        severity: &str,
        security: bool,
        drill: bool,
    ) -> IncidentRef {
        let d = self
            .engine
            .declare(Declaration {
                title: title.into(),
                severity: Some(severity.into()),
                security,
                drill,
                by: "ann".into(),
                ..Declaration::default()
            })
            .await
            .unwrap();
        IncidentRef::Id(d.incident.id)
    }
}

#[tokio::test]
async fn a_sev1_pages_once_after_retries_and_resolves_with_the_same_key() {
    let r = rig().await;
    r.pd.fail_next(&[429, 500]);
    let inc = r.declare("Checkout is down", "SEV1", false, false).await;
    r.drain().await;
    let events = r.pd.events();
    assert_eq!(events.len(), 1, "{events:?}");
    let e = &events[0];
    assert_eq!(e.action, "trigger");
    let id = r.engine.get(inc).await.unwrap().incident.id;
    assert_eq!(e.dedup_key, format!("muster-{id}"));
    assert_eq!(e.body["payload"]["severity"], "critical");
    assert_eq!(
        e.body["payload"]["summary"],
        "INC-1 Checkout is down (SEV1)"
    );
    assert_eq!(
        e.body["links"][0]["href"],
        "https://muster.example.org/incidents/INC-1"
    );
    // The two refusals were retried, not lost or doubled.
    let statuses: Vec<u16> = r.pd.requests().iter().map(|(s, _)| *s).collect();
    assert_eq!(statuses, [429, 500, 202]);

    // Raising within the list does not page again.
    r.engine.set_severity(inc, "SEV2", "ann").await.unwrap();
    r.drain().await;
    assert_eq!(r.pd.events().len(), 1);

    r.engine.resolve(inc, "ann").await.unwrap();
    r.drain().await;
    let events = r.pd.events();
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].action, "resolve");
    assert_eq!(events[1].dedup_key, events[0].dedup_key);
    assert_eq!(events[1].routing_key, KEY);
    assert_eq!(
        r.pd.alert(KEY, &events[0].dedup_key),
        Some(PdAlertState::Resolved)
    );
    // Closing after resolving sends nothing more.
    r.engine.close(inc, "ann").await.unwrap();
    r.drain().await;
    assert_eq!(r.pd.events().len(), 2);
}

#[tokio::test]
async fn unlisted_severities_page_only_when_raised_into_the_list() {
    let r = rig().await;
    let inc = r.declare("Slow reports", "SEV3", false, false).await;
    r.drain().await;
    assert!(r.pd.requests().is_empty());
    // Resolving an incident never paged sends nothing.
    let other = r.declare("Minor glitch", "SEV4", false, false).await;
    r.engine.resolve(other, "ann").await.unwrap();
    r.drain().await;
    assert!(r.pd.requests().is_empty());

    r.engine.set_severity(inc, "SEV2", "ann").await.unwrap();
    r.drain().await;
    let events = r.pd.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].body["payload"]["severity"], "error");
    // Lowered again then resolved: the page is still resolved.
    r.engine.set_severity(inc, "SEV3", "ann").await.unwrap();
    r.engine.resolve(inc, "ann").await.unwrap();
    r.drain().await;
    assert_eq!(r.pd.events().last().unwrap().action, "resolve");
}

#[tokio::test]
async fn security_incidents_page_neutrally_and_drills_never_page() {
    let r = rig().await;
    r.declare("Leaked AWS keys for billing-prod", "SEV1", true, false)
        .await;
    r.declare("Game day", "SEV1", false, true).await;
    r.drain().await;
    let events = r.pd.events();
    assert_eq!(events.len(), 1);
    let body = events[0].body.to_string();
    assert!(!body.contains("AWS") && !body.contains("billing"), "{body}");
    assert_eq!(
        events[0].body["payload"]["summary"],
        "Security incident INC-1 (SEV1): details are in Muster."
    );
}

#[tokio::test]
async fn a_refused_event_fails_the_step_without_retrying() {
    let r = rig().await;
    r.pd.fail_next(&[400]);
    let inc = r.declare("Checkout is down", "SEV1", false, false).await;
    r.drain().await;
    assert_eq!(r.pd.requests().len(), 1, "400 is not retried");
    let d = r.engine.get(inc).await.unwrap();
    let jobs = r.engine.pending_setup(d.incident.id).await.unwrap();
    assert!(jobs.is_empty(), "paging is not a setup step: {jobs:?}");
}
