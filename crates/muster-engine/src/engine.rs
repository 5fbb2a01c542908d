//! The use cases. Each public method is one thing a person can do to an incident.

use crate::chat::{ChatPlanner, ChatPlatform, Origin, Planner};
use crate::{Clock, EngineError};
use muster_core::config::Config;
use muster_core::incident::{
    ActionItem, ExternalRef, Impact, IncidentDetail, Narrative, ResourceKind, TimelineEvent,
    check_not_future, check_note_time, parse_link, parse_text,
};
use muster_core::record::{Change, ListFilter, NewAction, NewIncident, NewJob, Page};
use muster_core::report::{self, ReportFormat};
use muster_core::time::{Timestamp, parse_user_time};
use muster_core::{ChannelName, DomainError, IncidentId, IncidentRef, Lang, Title};
use muster_store::{Store, StoreError};
use std::sync::Arc;

/// How many times an operation is re-checked when the incident changed under it.
const CONFLICT_RETRIES: usize = 5;
/// Longest person name we keep.
const MAX_PERSON_CHARS: usize = 80;
/// How many change announcements a slow live page may miss before it is told it lagged.
const CHANGES_BUFFER: usize = 256;

/// A request to declare an incident, as typed; [`Engine::declare`] validates it.
#[derive(Debug, Clone, Default)]
pub struct Declaration {
    pub title: String,
    pub severity: Option<String>,
    pub team: Option<String>,
    pub security: bool,
    pub drill: bool,
    pub description: Option<String>,
    pub by: String,
    /// Where it was declared, for chat platforms to invite and answer the declarer.
    pub origin: Origin,
    /// References the source already knows (the chat message declared from).
    pub resources: Vec<ExternalRef>,
}

/// What a keyed declaration did: declared now, or found what the key declared before.
#[derive(Debug, Clone)]
pub enum Declared {
    New(IncidentDetail),
    Again(IncidentDetail),
}

impl Declared {
    pub fn detail(&self) -> &IncidentDetail {
        match self {
            Declared::New(d) | Declared::Again(d) => d,
        }
    }

    pub fn into_detail(self) -> IncidentDetail {
        match self {
            Declared::New(d) | Declared::Again(d) => d,
        }
    }

    pub fn is_new(&self) -> bool {
        matches!(self, Declared::New(_))
    }
}

/// A field of the declare form, as every form names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeclareField {
    Title,
    Severity,
    Team,
    Description,
    By,
}

impl DeclareField {
    pub fn as_str(self) -> &'static str {
        match self {
            DeclareField::Title => "title",
            DeclareField::Severity => "severity",
            DeclareField::Team => "team",
            DeclareField::Description => "description",
            DeclareField::By => "by",
        }
    }
}

/// Everything wrong with a declaration, by field, so each form (the Slack modal, the web
/// form, the API) shows every problem next to its input at once. Never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldErrors(Vec<(DeclareField, DomainError)>);

impl FieldErrors {
    pub fn iter(&self) -> impl Iterator<Item = &(DeclareField, DomainError)> {
        self.0.iter()
    }

    /// The first problem, for answers that carry one message.
    pub fn first(&self) -> &DomainError {
        &self.0[0].1
    }

    pub fn get(&self, field: DeclareField) -> Option<&DomainError> {
        self.0.iter().find(|(f, _)| *f == field).map(|(_, e)| e)
    }
}

#[derive(Debug, Clone, Default)]
pub struct ActionInput {
    pub text: String,
    pub action_type: String,
    pub priority: String,
    pub owner: Option<String>,
    pub link: Option<String>,
}

/// Impact times as typed; `None` leaves a time as it is.
#[derive(Debug, Clone, Default)]
pub struct ImpactInput {
    pub detected: Option<String>,
    pub started: Option<String>,
    pub mitigated: Option<String>,
    pub ended: Option<String>,
}

/// Fields to rewrite; `None` leaves a field as it is. Narrative fields are named as in
/// [`Narrative::FIELDS`]; an empty string clears one.
#[derive(Debug, Clone, Default)]
pub struct EditInput {
    pub title: Option<String>,
    pub description: Option<String>,
    pub team: Option<String>,
    pub narrative: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub status: Option<String>,
    pub severity: Option<String>,
    pub team: Option<String>,
    pub search: Option<String>,
    pub include_security: bool,
    /// Include the security incidents this person declared or held a role in.
    pub involving: Option<String>,
    pub include_drills: bool,
    pub page: u32,
    pub per_page: u32,
}

/// A user-supplied report template: a display name (usually its path) and its text.
#[derive(Debug, Clone)]
pub struct Template {
    pub name: String,
    pub source: String,
}

pub struct Engine {
    store: Store,
    config: Arc<Config>,
    clock: Arc<dyn Clock>,
    templates: [Option<Template>; 2],
    /// What every declaration and change is planned on: chat platforms, paging.
    planners: Vec<Arc<dyn Planner>>,
    /// Signalled whenever a write queued steps, so this process's worker starts them at
    /// once instead of at its next poll.
    queued: Arc<tokio::sync::Notify>,
    /// Which incident this process just changed, for live pages ([`Engine::changes`]).
    changes: tokio::sync::broadcast::Sender<IncidentId>,
}

impl Engine {
    pub fn new(store: Store, config: Arc<Config>, clock: Arc<dyn Clock>) -> Self {
        Engine {
            store,
            config,
            clock,
            templates: [None, None],
            planners: Vec::new(),
            queued: Arc::new(tokio::sync::Notify::new()),
            changes: tokio::sync::broadcast::channel(CHANGES_BUFFER).0,
        }
    }

    /// The incidents this process changes, as they change: every use case that writes
    /// announces the incident it wrote, for live pages. A receiver that falls behind
    /// gets `Lagged` and should re-read what it shows. Writes by another process (a CLI
    /// on the same database) are not announced: readers also re-read now and then.
    pub fn changes(&self) -> tokio::sync::broadcast::Receiver<IncidentId> {
        self.changes.subscribe()
    }

    pub(crate) fn changed(&self, id: IncidentId) {
        // Nobody listening is fine.
        let _ = self.changes.send(id);
    }

    /// Provision every declaration on `platform` and queue its follow-ups with every
    /// change (e.g. refresh the announcement when the status changes), whoever declares
    /// or changes: chat, web, API, CLI or an alert. Several platforms may be added; each
    /// gets its own channel and steps.
    pub fn with_chat(self, platform: Arc<dyn ChatPlatform>) -> Self {
        self.with_planner(Arc::new(ChatPlanner(platform)))
    }

    /// Plan steps with `planner` on every declaration and change, like a chat platform
    /// but seeing the new incident (paging decides by severity). One planner per name.
    pub fn with_planner(mut self, planner: Arc<dyn Planner>) -> Self {
        self.planners.retain(|p| p.name() != planner.name());
        self.planners.push(planner);
        self
    }

    /// The steps every planner asks for on `change` of `detail`, named after the version
    /// the store will give the incident.
    pub(crate) fn follow_ups(
        &self,
        detail: &IncidentDetail,
        change: &Change,
        now: Timestamp,
    ) -> Vec<NewJob> {
        let version = muster_core::record::next_version(&detail.incident, now);
        self.planners
            .iter()
            .flat_map(|p| {
                p.follow_ups(detail, change, version)
                    .into_iter()
                    .map(|s| s.into_job(p.name(), None))
            })
            .collect()
    }

    /// Notified each time a write of this engine queued workflow steps (a worker waits on
    /// it). Another process's writes (a CLI on the same database) are seen at the next poll.
    pub fn steps_queued(&self) -> Arc<tokio::sync::Notify> {
        self.queued.clone()
    }

    pub(crate) fn queued_steps(&self, n: usize) {
        if n > 0 {
            self.queued.notify_one();
        }
    }

    /// Use a team's own report template for `lang`. Checked now so a broken template is
    /// reported at start-up, not in the middle of a review.
    pub fn with_template(
        mut self,
        lang: Lang,
        name: String,
        source: String,
    ) -> Result<Self, EngineError> {
        report::check_template(&name, &source)?;
        self.templates[lang as usize] = Some(Template { name, source });
        Ok(self)
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// Every planner: the chat platforms say reminders ([`Planner::remind`]), the others
    /// plan none.
    pub(crate) fn planners(&self) -> &[Arc<dyn Planner>] {
        &self.planners
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Declare an incident: validate everything first, then write the incident, its
    /// roles, meeting, first timeline entries and every chat platform's setup steps in
    /// one transaction. The same for every source: web, API, CLI, chat, alerts.
    pub async fn declare(&self, d: Declaration) -> Result<IncidentDetail, EngineError> {
        let (new, jobs) = self.prepare(d)?;
        let incident = self
            .store
            .insert_declared(new, None, &jobs)
            .await?
            .ok_or_else(|| StoreError::Other("a declaration without a key was refused".into()))?;
        self.queued_steps(jobs.len());
        self.changed(incident.id);
        self.get(IncidentRef::Id(incident.id)).await
    }

    /// Declare an incident from a delivery that may come again (Slack retries, a double
    /// submit, an `Idempotency-Key`), with its workflow, all in one transaction: None when
    /// `delivery` already declared one. Nothing is kept when this fails, so the next
    /// delivery of the same key declares.
    pub async fn declare_once(
        &self,
        d: Declaration,
        delivery: &str,
    ) -> Result<Option<IncidentDetail>, EngineError> {
        let (new, jobs) = self.prepare(d)?;
        match self
            .store
            .insert_declared(new, Some(delivery), &jobs)
            .await?
        {
            Some(i) => {
                self.queued_steps(jobs.len());
                self.changed(i.id);
                Ok(Some(self.get(IncidentRef::Id(i.id)).await?))
            }
            None => Ok(None),
        }
    }

    /// Declare once per `delivery` key (a form's hidden key, an `Idempotency-Key`, a scan's
    /// fingerprints) and answer the incident either way: a repeat gets the incident the key
    /// declared the first time, whatever the repeat's own fields say.
    pub async fn declare_keyed(
        &self,
        d: Declaration,
        delivery: &str,
    ) -> Result<Declared, EngineError> {
        if let Some(d) = self.declare_once(d, delivery).await? {
            return Ok(Declared::New(d));
        }
        match self.declared_by(delivery).await? {
            Some(d) => Ok(Declared::Again(d)),
            // The key was remembered without an incident (another kind of delivery).
            None => Err(StoreError::Other(format!(
                "the delivery key {delivery:?} is already used and declared nothing"
            ))
            .into()),
        }
    }

    /// The incident a delivery key declared, if it declared one.
    pub async fn declared_by(&self, delivery: &str) -> Result<Option<IncidentDetail>, EngineError> {
        match self.store.incident_for_key(delivery).await? {
            Some(id) => Ok(Some(self.get(IncidentRef::Id(id)).await?)),
            None => Ok(None),
        }
    }

    /// Check a declaration as typed, every field at once: the one rule every form uses.
    pub fn check_declaration(&self, d: &Declaration) -> Result<(), FieldErrors> {
        check_declaration(&self.config, d)
    }

    pub(crate) fn prepare(
        &self,
        d: Declaration,
    ) -> Result<(NewIncident, Vec<NewJob>), EngineError> {
        let c = &self.config;
        let Valid {
            title,
            severity,
            team,
            description,
            by,
        } = validate(c, &d)?;
        let now = self.clock.now();
        let channel =
            ChannelName::for_incident(&c.channel_template, now.date_naive(), title.as_str())?;
        // 122 random bits: a room nobody can guess from the incident's name or number.
        let room = format!("muster-{}", uuid::Uuid::new_v4().simple());
        let meeting_url = format!("{}{}", c.meeting_base_url, room);
        let id = IncidentId(uuid::Uuid::now_v7());
        let roles: Vec<(String, String)> = c
            .declarer_roles
            .iter()
            .map(|r| (r.clone(), by.clone()))
            .collect();
        let mut events = vec![
            TimelineEvent::Declared {
                title: title.to_string(),
                severity: severity.clone(),
                security: d.security,
                drill: d.drill,
            },
            TimelineEvent::ChannelNamed {
                name: channel.to_string(),
            },
            TimelineEvent::MeetingCreated {
                url: meeting_url.clone(),
            },
        ];
        events.extend(
            roles
                .iter()
                .map(|(role, person)| TimelineEvent::RoleAssigned {
                    role: role.clone(),
                    person: person.clone(),
                }),
        );
        let mut resources = vec![ExternalRef {
            kind: ResourceKind::Meeting,
            system: "jitsi".into(),
            external_id: room,
            url: Some(meeting_url),
            name: None,
        }];
        resources.extend(d.resources);
        let new = NewIncident {
            id,
            title,
            description,
            severity,
            status: c.initial_status.clone(),
            team,
            security: d.security,
            drill: d.drill,
            channel_name: channel,
            declared_by: by,
            declared_at: now,
            roles,
            resources,
            events,
        };
        let origin = d.origin.to_input();
        let mut jobs: Vec<NewJob> = self
            .planners
            .iter()
            .flat_map(|p| {
                p.setup(&new, &d.origin)
                    .into_iter()
                    .map(|s| s.into_job(p.name(), Some(&origin)))
            })
            .collect();
        jobs.extend(crate::care::setup(self, &new));
        Ok((new, jobs))
    }

    pub async fn get(&self, r: IncidentRef) -> Result<IncidentDetail, EngineError> {
        self.store
            .detail(r)
            .await?
            .ok_or_else(|| DomainError::IncidentNotFound(r.to_string()).into())
    }

    pub async fn list(
        &self,
        q: &ListQuery,
    ) -> Result<Page<muster_core::incident::Incident>, EngineError> {
        let c = &self.config;
        let per_page = q.per_page.clamp(1, 500);
        let filter = ListFilter {
            status: q
                .status
                .as_deref()
                .map(|s| c.status(s).map(|s| s.name.clone()))
                .transpose()?,
            severity: q
                .severity
                .as_deref()
                .map(|s| c.severity(s).map(|s| s.name.clone()))
                .transpose()?,
            team: q.team.as_deref().map(|t| c.team(t)).transpose()?,
            search: q
                .search
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            include_security: q.include_security,
            involving: q.involving.clone(),
            include_drills: q.include_drills,
            limit: per_page,
            offset: q.page.saturating_sub(1).saturating_mul(per_page),
        };
        Ok(self.store.list(&filter).await?)
    }

    /// Move to another status, as the lifecycle allows.
    pub async fn set_status(
        &self,
        r: IncidentRef,
        status: &str,
        by: &str,
    ) -> Result<IncidentDetail, EngineError> {
        let to = self.config.status(status)?.name.clone();
        self.mutate(r, by, |d, now| {
            let mut ch = Change::default();
            self.transition(d, &to, now, &mut ch)?;
            Ok(ch)
        })
        .await
    }

    /// Impact over: record the end (and mitigation) if not yet known, and move to the
    /// configured resolved status.
    pub async fn resolve(&self, r: IncidentRef, by: &str) -> Result<IncidentDetail, EngineError> {
        let to = self.config.resolved_status.clone();
        self.mutate(r, by, |d, now| {
            let i = &d.incident;
            if i.resolved_at.is_some() && i.status == to {
                return Err(DomainError::AlreadyInStatus(to.clone()));
            }
            let mut ch = Change::default();
            if i.status != to {
                self.transition(d, &to, now, &mut ch)?;
            }
            let mut impact = i.impact.clone();
            if impact.mitigated_at.is_none() {
                impact.mitigated_at = Some(now);
                ch.events.push((now, impact_event("mitigated", now)));
            }
            if impact.ended_at.is_none() {
                impact.ended_at = Some(now);
                ch.events.push((now, impact_event("ended", now)));
            }
            if impact.check_order().is_ok() {
                ch.impact = Some(impact);
            }
            ch.resolved_at = Some(now);
            ch.events.push((now, TimelineEvent::Resolved));
            Ok(ch)
        })
        .await
    }

    /// Close the incident: the review is done or it needs none.
    pub async fn close(&self, r: IncidentRef, by: &str) -> Result<IncidentDetail, EngineError> {
        let to = self.config.closed_status.clone();
        self.mutate(r, by, |d, now| {
            let mut ch = Change::default();
            self.transition(d, &to, now, &mut ch)?;
            Ok(ch)
        })
        .await
    }

    fn transition(
        &self,
        d: &IncidentDetail,
        to: &str,
        now: Timestamp,
        ch: &mut Change,
    ) -> Result<(), DomainError> {
        let from = &d.incident.status;
        self.config.check_transition(from, to)?;
        ch.status = Some(to.to_owned());
        ch.events.push((
            now,
            TimelineEvent::StatusChanged {
                from: from.clone(),
                to: to.to_owned(),
            },
        ));
        if to == self.config.closed_status {
            ch.closed_at = Some(now);
            ch.events.push((now, TimelineEvent::Closed));
        }
        if to == self.config.resolved_status && d.incident.resolved_at.is_none() {
            ch.resolved_at = Some(now);
        }
        Ok(())
    }

    pub async fn set_severity(
        &self,
        r: IncidentRef,
        severity: &str,
        by: &str,
    ) -> Result<IncidentDetail, EngineError> {
        let to = self.config.severity(severity)?.name.clone();
        self.mutate(r, by, |d, now| {
            let from = &d.incident.severity;
            if *from == to {
                return Err(DomainError::SameSeverity(to.clone()));
            }
            Ok(Change {
                severity: Some(to.clone()),
                events: vec![(
                    now,
                    TimelineEvent::SeverityChanged {
                        from: from.clone(),
                        to: to.clone(),
                    },
                )],
                ..Change::default()
            })
        })
        .await
    }

    pub async fn assign_role(
        &self,
        r: IncidentRef,
        role: &str,
        who: &str,
        by: &str,
    ) -> Result<IncidentDetail, EngineError> {
        let role = self.config.role(role)?.key.clone();
        let who = person(who)?;
        self.mutate(r, by, |_, now| {
            Ok(Change {
                roles: vec![(role.clone(), who.clone())],
                events: vec![(
                    now,
                    TimelineEvent::RoleAssigned {
                        role: role.clone(),
                        person: who.clone(),
                    },
                )],
                ..Change::default()
            })
        })
        .await
    }

    /// Nobody holds `role` any more (the assignment history is kept).
    pub async fn clear_role(
        &self,
        r: IncidentRef,
        role: &str,
        by: &str,
    ) -> Result<IncidentDetail, EngineError> {
        let role = self.config.role(role)?.key.clone();
        self.mutate(r, by, |d, now| {
            if !d.roles.iter().any(|x| x.role == role) {
                return Err(DomainError::RoleNotHeld(role.clone()));
            }
            Ok(Change {
                roles: vec![(role.clone(), String::new())],
                events: vec![(now, TimelineEvent::RoleCleared { role: role.clone() })],
                ..Change::default()
            })
        })
        .await
    }

    /// A timeline note, back-dated with `at` when given.
    pub async fn add_note(
        &self,
        r: IncidentRef,
        text: &str,
        at: Option<&str>,
        by: &str,
    ) -> Result<IncidentDetail, EngineError> {
        let text = parse_text(text)?;
        let at = at
            .map(|a| parse_user_time(a, self.clock.now()))
            .transpose()?;
        self.mutate(r, by, |d, now| {
            if let Some(at) = at {
                check_note_time(at, d.incident.declared_at, now)?;
            }
            Ok(Change {
                events: vec![(
                    at.unwrap_or(now),
                    TimelineEvent::Note { text: text.clone() },
                )],
                ..Change::default()
            })
        })
        .await
    }

    /// A status update: what people following the incident need to know now.
    pub async fn post_update(
        &self,
        r: IncidentRef,
        text: &str,
        by: &str,
    ) -> Result<IncidentDetail, EngineError> {
        let text = parse_text(text)?;
        self.mutate(r, by, |_, now| {
            Ok(Change {
                update: Some(text.clone()),
                events: vec![(now, TimelineEvent::StatusUpdate { text: text.clone() })],
                ..Change::default()
            })
        })
        .await
    }

    pub async fn add_action(
        &self,
        r: IncidentRef,
        a: ActionInput,
        by: &str,
    ) -> Result<IncidentDetail, EngineError> {
        let action = new_action(&a)?;
        self.mutate(r, by, |d, now| {
            let number = d.actions.iter().map(|a| a.number).max().unwrap_or(0) + 1;
            Ok(Change {
                events: vec![(
                    now,
                    TimelineEvent::ActionAdded {
                        number,
                        text: action.text.clone(),
                    },
                )],
                new_action: Some((number, action.clone())),
                ..Change::default()
            })
        })
        .await
    }

    pub async fn complete_action(
        &self,
        r: IncidentRef,
        number: i64,
        by: &str,
    ) -> Result<IncidentDetail, EngineError> {
        self.mutate(r, by, |d, now| {
            let a = find_action(d, number)?;
            if a.done_at.is_some() {
                return Err(DomainError::ActionAlreadyDone(number));
            }
            Ok(Change {
                complete_action: Some(number),
                events: vec![(now, TimelineEvent::ActionDone { number })],
                ..Change::default()
            })
        })
        .await
    }

    /// Rewrite action item `number` (text, type, priority, owner, link); refused with
    /// "nothing to change" when every field is as it was.
    pub async fn edit_action(
        &self,
        r: IncidentRef,
        number: i64,
        a: ActionInput,
        by: &str,
    ) -> Result<IncidentDetail, EngineError> {
        let action = new_action(&a)?;
        self.mutate(r, by, |d, now| {
            let old = find_action(d, number)?;
            if old.text == action.text
                && old.action_type == action.action_type
                && old.priority == action.priority
                && old.owner == action.owner
                && old.link == action.link
            {
                return Err(DomainError::NothingToChange);
            }
            Ok(Change {
                edit_action: Some((number, action.clone())),
                events: vec![(now, TimelineEvent::ActionEdited { number })],
                ..Change::default()
            })
        })
        .await
    }

    /// Open a done action item again (the work turned out unfinished).
    pub async fn reopen_action(
        &self,
        r: IncidentRef,
        number: i64,
        by: &str,
    ) -> Result<IncidentDetail, EngineError> {
        self.mutate(r, by, |d, now| {
            let a = find_action(d, number)?;
            if a.done_at.is_none() {
                return Err(DomainError::ActionNotDone(number));
            }
            Ok(Change {
                reopen_action: Some(number),
                events: vec![(now, TimelineEvent::ActionReopened { number })],
                ..Change::default()
            })
        })
        .await
    }

    pub async fn set_impact(
        &self,
        r: IncidentRef,
        input: ImpactInput,
        by: &str,
    ) -> Result<IncidentDetail, EngineError> {
        let now = self.clock.now();
        let parse = |s: &Option<String>| s.as_deref().map(|t| parse_user_time(t, now)).transpose();
        let given = [
            ("detected", parse(&input.detected)?),
            ("started", parse(&input.started)?),
            ("mitigated", parse(&input.mitigated)?),
            ("ended", parse(&input.ended)?),
        ];
        if given.iter().all(|(_, t)| t.is_none()) {
            return Err(DomainError::NothingToChange.into());
        }
        // Only the times given now: one stored before this rule is not held against a
        // change of another.
        for t in given.iter().filter_map(|(_, t)| *t) {
            check_not_future(t, now)?;
        }
        self.mutate(r, by, |d, now| {
            let mut impact: Impact = d.incident.impact.clone();
            let mut events = Vec::new();
            for (field, t) in &given {
                let Some(t) = *t else { continue };
                let slot = match *field {
                    "detected" => &mut impact.detected_at,
                    "started" => &mut impact.started_at,
                    "mitigated" => &mut impact.mitigated_at,
                    _ => &mut impact.ended_at,
                };
                *slot = Some(t);
                events.push((now, impact_event(field, t)));
            }
            impact.check_order()?;
            Ok(Change {
                impact: Some(impact),
                events,
                ..Change::default()
            })
        })
        .await
    }

    /// Rewrite the title, description, team or report narrative. Only the fields whose
    /// value differs from the record's are written and named on the timeline, so a form
    /// that sends every field records what was actually edited; nothing different is
    /// refused with `NothingToChange`.
    pub async fn edit(
        &self,
        r: IncidentRef,
        e: EditInput,
        by: &str,
    ) -> Result<IncidentDetail, EngineError> {
        let title = e.title.as_deref().map(Title::parse).transpose()?;
        let description = e
            .description
            .as_deref()
            .map(|d| {
                if d.trim().is_empty() {
                    Ok(String::new())
                } else {
                    parse_text(d)
                }
            })
            .transpose()?;
        let team = e
            .team
            .as_deref()
            .map(|t| {
                if t.trim().is_empty() {
                    Ok(None)
                } else {
                    self.config.team(t).map(Some)
                }
            })
            .transpose()?;
        let mut narrative = Vec::new();
        for (name, value) in &e.narrative {
            let field = Narrative::FIELDS
                .iter()
                .find(|f| f.replace('_', "-") == name.replace('_', "-"))
                .ok_or_else(|| DomainError::UnknownField {
                    given: name.clone(),
                    valid: Narrative::FIELDS
                        .iter()
                        .map(|f| f.replace('_', "-"))
                        .collect(),
                })?;
            let value = if value.trim().is_empty() {
                String::new()
            } else {
                parse_text(value)?
            };
            narrative.push((*field, value));
        }
        if title.is_none() && description.is_none() && team.is_none() && narrative.is_empty() {
            return Err(DomainError::NothingToChange.into());
        }
        self.mutate(r, by, |d, now| {
            let i = &d.incident;
            let mut ch = Change::default();
            let mut fields = Vec::new();
            if let Some(t) = title.as_ref().filter(|t| **t != i.title) {
                ch.title = Some(t.clone());
                fields.push("title".to_owned());
            }
            if let Some(t) = description.as_ref().filter(|t| **t != i.description) {
                ch.description = Some(t.clone());
                fields.push("description".to_owned());
            }
            if let Some(t) = team.as_ref().filter(|t| **t != i.team) {
                ch.team = Some(t.clone());
                fields.push("team".to_owned());
            }
            let mut current = i.narrative.clone();
            for (field, value) in &narrative {
                let slot = current
                    .field_mut(field)
                    .expect("fields come from Narrative::FIELDS");
                if slot != value {
                    *slot = value.clone();
                    ch.narrative.push((field, value.clone()));
                    fields.push((*field).to_owned());
                }
            }
            if fields.is_empty() {
                return Err(DomainError::NothingToChange);
            }
            ch.events = vec![(now, TimelineEvent::Edited { fields })];
            Ok(ch)
        })
        .await
    }

    /// Rewrite (`Some(text)`) or withdraw (`None`) note `seq`. Only its author may, and
    /// only a note (status updates and saved chat messages stay as they were said). The
    /// old text is kept in history, hidden; the timeline says a note was edited.
    pub async fn revise_note(
        &self,
        r: IncidentRef,
        seq: i64,
        text: Option<&str>,
        by: &str,
    ) -> Result<IncidentDetail, EngineError> {
        let text = text.map(parse_text).transpose()?;
        let me = person(by)?;
        self.mutate(r, by, |d, now| {
            let entry = timeline_entry(d, seq)?;
            let TimelineEvent::Note { text: old } = &entry.event else {
                return Err(DomainError::NotYourNote(seq));
            };
            if entry.author != me {
                return Err(DomainError::NotYourNote(seq));
            }
            if text.as_ref() == Some(old) {
                return Err(DomainError::NothingToChange);
            }
            let event = match &text {
                Some(_) => TimelineEvent::NoteEdited { seq },
                None => TimelineEvent::NoteDeleted { seq },
            };
            Ok(Change {
                revise_note: Some((seq, text.clone())),
                events: vec![(now, event)],
                ..Change::default()
            })
        })
        .await
    }

    /// Mark entry `seq` as a key moment (or unmark it): the report highlights key moments.
    pub async fn mark_key_moment(
        &self,
        r: IncidentRef,
        seq: i64,
        key: bool,
        by: &str,
    ) -> Result<IncidentDetail, EngineError> {
        self.mutate(r, by, |d, now| {
            let entry = timeline_entry(d, seq)?;
            if entry.key_moment == key {
                return Err(DomainError::NothingToChange);
            }
            Ok(Change {
                key_moment: Some((seq, key)),
                events: vec![(now, TimelineEvent::KeyMoment { seq, key })],
                ..Change::default()
            })
        })
        .await
    }

    /// The report, from the team's template for `lang` if configured, else the bundled one.
    pub async fn report(
        &self,
        r: IncidentRef,
        lang: Lang,
        format: ReportFormat,
    ) -> Result<String, EngineError> {
        let detail = self.get(r).await?;
        self.render_report(&detail, lang, format)
    }

    pub fn render_report(
        &self,
        detail: &IncidentDetail,
        lang: Lang,
        format: ReportFormat,
    ) -> Result<String, EngineError> {
        let tpl = self.templates[lang as usize]
            .as_ref()
            .map(|t| (t.name.as_str(), t.source.as_str()));
        Ok(report::render(
            detail,
            &self.config,
            lang,
            format,
            tpl,
            self.clock.now(),
        )?)
    }

    /// Read, check, write; on a concurrent change, read and check again.
    async fn mutate<F>(&self, r: IncidentRef, by: &str, f: F) -> Result<IncidentDetail, EngineError>
    where
        F: Fn(&IncidentDetail, Timestamp) -> Result<Change, DomainError>,
    {
        let by = person(by)?;
        let mut attempt = 0;
        loop {
            let detail = self.get(r).await?;
            let now = self.clock.now();
            let mut change = f(&detail, now)?;
            // Named after the version the store will give the incident, so each change
            // names its own follow-up steps.
            change.jobs = self.follow_ups(&detail, &change, now);
            let version = muster_core::record::next_version(&detail.incident, now);
            change
                .jobs
                .extend(crate::care::follow_up(self, &change, version));
            let queued = change.jobs.len();
            match self.store.apply(&detail.incident, &by, now, change).await {
                Ok(_) => {
                    self.queued_steps(queued);
                    self.changed(detail.incident.id);
                    return self.get(IncidentRef::Id(detail.incident.id)).await;
                }
                Err(StoreError::Conflict) if attempt + 1 < CONFLICT_RETRIES => attempt += 1,
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// Check a declaration as typed against `c`, every field at once: the one rule the Slack
/// modal, the web form, the API and the CLI all use, so no limit is written twice.
/// Action item `number` of the incident.
fn find_action(d: &IncidentDetail, number: i64) -> Result<&ActionItem, DomainError> {
    d.actions
        .iter()
        .find(|a| a.number == number)
        .ok_or(DomainError::ActionNotFound(number))
}

/// An action item's fields, checked.
fn new_action(a: &ActionInput) -> Result<NewAction, DomainError> {
    Ok(NewAction {
        text: parse_text(&a.text)?,
        action_type: a.action_type.parse()?,
        priority: a.priority.parse()?,
        owner: a.owner.as_deref().map(person).transpose()?,
        link: a.link.as_deref().map(parse_link).transpose()?,
    })
}

pub fn check_declaration(c: &Config, d: &Declaration) -> Result<(), FieldErrors> {
    validate(c, d).map(drop)
}

fn validate(c: &Config, d: &Declaration) -> Result<Valid, FieldErrors> {
    let mut errors = Vec::new();
    let mut check = FieldCheck(&mut errors);
    let title = check.field(DeclareField::Title, Title::parse(&d.title));
    let severity = check.field(
        DeclareField::Severity,
        match d
            .severity
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(s) => c.severity(s).map(|s| s.name.clone()),
            None => Ok(c.default_severity.clone()),
        },
    );
    let team = check.field(
        DeclareField::Team,
        d.team
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| c.team(t))
            .transpose(),
    );
    let description = check.field(
        DeclareField::Description,
        match d.description.as_deref().map(str::trim) {
            None | Some("") => Ok(String::new()),
            Some(text) => parse_text(text),
        },
    );
    let by = check.field(DeclareField::By, person(&d.by));
    match (title, severity, team, description, by) {
        (Some(title), Some(severity), Some(team), Some(description), Some(by)) => Ok(Valid {
            title,
            severity,
            team,
            description,
            by,
        }),
        _ => Err(FieldErrors(errors)),
    }
}

/// Collects every field's problem instead of stopping at the first.
struct FieldCheck<'a>(&'a mut Vec<(DeclareField, DomainError)>);

impl FieldCheck<'_> {
    fn field<T>(&mut self, field: DeclareField, r: Result<T, DomainError>) -> Option<T> {
        r.map_err(|e| self.0.push((field, e))).ok()
    }
}

/// A declaration that passed [`Engine::check_declaration`].
struct Valid {
    title: Title,
    severity: String,
    team: Option<String>,
    description: String,
    by: String,
}

/// Entry `seq` of the incident's visible timeline.
fn timeline_entry(
    d: &IncidentDetail,
    seq: i64,
) -> Result<&muster_core::incident::TimelineEntry, DomainError> {
    d.timeline
        .iter()
        .find(|e| e.seq == seq)
        .ok_or(DomainError::EntryNotFound(seq))
}

fn impact_event(field: &str, at: Timestamp) -> TimelineEvent {
    TimelineEvent::ImpactRecorded {
        field: field.to_owned(),
        at,
    }
}

/// A person's name or handle as typed: trimmed, non-empty, bounded.
pub(crate) fn person(raw: &str) -> Result<String, DomainError> {
    let p = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if p.is_empty() {
        return Err(DomainError::EmptyText);
    }
    let n = p.chars().count();
    if n > MAX_PERSON_CHARS {
        return Err(DomainError::TextTooLong {
            max: MAX_PERSON_CHARS,
            actual: n,
        });
    }
    Ok(p)
}
