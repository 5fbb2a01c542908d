//! The [`Store`]: one pool, embedded migrations, and the operations the engine needs.

use crate::StoreError;
use crate::fault::StoreOptions;
use crate::rows::{self, INCIDENT_COLUMNS};
use muster_core::incident::{ExternalRef, Incident, IncidentDetail, TimelineEvent};
use muster_core::record::{Change, ListFilter, NewIncident, Page, next_version};
use muster_core::time::{Timestamp, to_storage};
use muster_core::{IncidentId, IncidentNumber, IncidentRef};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, QueryBuilder, Row, Sqlite, Transaction};
use std::str::FromStr;
use std::time::Duration;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// How long the readiness write probe waits for the write lock before calling it locked.
const PROBE_BUSY_TIMEOUT_MS: u64 = 250;

#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Open (creating if needed) the database at `url` and apply pending migrations.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        let store = Store::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Open (creating if needed) with chosen options and apply pending migrations.
    pub async fn open_with(url: &str, options: StoreOptions) -> Result<Store, StoreError> {
        let store = Store::connect_opts(url, options).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Open without migrating (for `muster migrate` and read-only tools).
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        Store::connect_opts(url, StoreOptions::default()).await
    }

    /// Open with a chosen wait for a busy database before reporting it locked.
    pub async fn connect_with(url: &str, busy_timeout: Duration) -> Result<Store, StoreError> {
        Store::connect_opts(url, StoreOptions::default().busy_timeout(busy_timeout)).await
    }

    /// Open without migrating, with chosen options.
    pub async fn connect_opts(url: &str, options: StoreOptions) -> Result<Store, StoreError> {
        let busy_timeout = options.busy_timeout;
        let opts = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::CannotOpen(e.to_string()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(busy_timeout);
        let mut pool = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(busy_timeout + Duration::from_secs(1))
            .after_release(|conn, _| {
                Box::pin(async move {
                    use sqlx::Connection;
                    if conn.is_in_transaction() {
                        // A dropped transaction's ROLLBACK is queued: let it run.
                        sqlx::query("SELECT 1").execute(&mut *conn).await?;
                    }
                    // SQLite ends a transaction by itself on some errors (a full disk, an
                    // I/O error); the queued ROLLBACK then fails and the connection still
                    // believes it is in a transaction. Close it rather than reuse it.
                    Ok(!conn.is_in_transaction())
                })
            });
        if let Some(switch) = options.fault {
            // New connections and idle ones alike follow the switch.
            let on_connect = switch.clone();
            pool = pool.after_connect(move |conn, _| {
                let fault = on_connect.get();
                Box::pin(async move { crate::fault::apply(conn, fault).await })
            });
            pool = pool.before_acquire(move |conn, _| {
                let fault = switch.get();
                Box::pin(async move {
                    crate::fault::apply(conn, fault).await?;
                    Ok(true)
                })
            });
        }
        let pool = pool.connect_with(opts).await?;
        Ok(Store { pool })
    }

    /// Apply embedded migrations; returns how many were new.
    pub async fn migrate(&self) -> Result<usize, StoreError> {
        let before = self.applied_migrations().await.unwrap_or(0);
        SQLITE_MIGRATIONS.run(&self.pool).await?;
        Ok(self.applied_migrations().await?.saturating_sub(before))
    }

    async fn applied_migrations(&self) -> Result<usize, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
            .fetch_one(&self.pool)
            .await?;
        Ok(n as usize)
    }

    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Cheap liveness check for readiness probes.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Whether a write would succeed now: takes the write lock (waiting at most 250 ms),
    /// writes a row big enough to need new pages, and rolls back, so nothing is kept.
    /// Reports a database that is locked, read-only (permissions, `mode=ro`) or capped
    /// (`max_page_count`). A disk that is physically full is only seen when a write is
    /// committed, so that shows up on the first real write instead.
    pub async fn check_writable(&self) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        // The probe changes the connection's busy timeout: do not give it back to the pool.
        conn.close_on_drop();
        sqlx::query(AssertSqlSafe(format!(
            "PRAGMA busy_timeout = {PROBE_BUSY_TIMEOUT_MS}"
        )))
        .execute(&mut *conn)
        .await?;
        let mut tx = sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE").await?;
        sqlx::query(
            "INSERT INTO idempotency_keys (key, created_at) VALUES ('muster:write-probe:' || hex(randomblob(4096)), '')",
        )
        .execute(&mut *tx)
        .await?;
        tx.rollback().await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Record a new incident, giving it the next human number.
    pub async fn insert_incident(&self, new: NewIncident) -> Result<Incident, StoreError> {
        self.insert_declared(new, None, &[])
            .await?
            .ok_or_else(|| StoreError::Other("a declaration without a key was refused".into()))
    }

    /// Insert an incident declared by the delivery `key` (e.g. a Slack view submission),
    /// with its workflow `jobs`, in one transaction. None when `key` was already
    /// delivered: a retry or a double click declares once, and a crash leaves either
    /// everything or nothing (so the next delivery of the same key declares).
    pub async fn insert_incident_once(
        &self,
        new: NewIncident,
        key: &str,
        jobs: &[crate::NewJob],
    ) -> Result<Option<Incident>, StoreError> {
        self.insert_declared(new, Some(key), jobs).await
    }

    /// Insert an incident with its workflow `jobs` in one transaction, once per delivery
    /// `key` when there is one (None: that key already declared).
    pub async fn insert_declared(
        &self,
        new: NewIncident,
        key: Option<&str>,
        jobs: &[crate::NewJob],
    ) -> Result<Option<Incident>, StoreError> {
        let mut tx = self.pool.begin().await?;
        if let Some(key) = key {
            // Taking the write lock first (the counter) would do too; the key insert is a write.
            let fresh = sqlx::query("INSERT INTO idempotency_keys (key, created_at, incident_id) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING")
                .bind(key)
                .bind(to_storage(new.declared_at))
                .bind(new.id.to_string())
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
            if !fresh {
                return Ok(None);
            }
        }
        let incident = insert_incident_in(&mut tx, &new).await?;
        crate::jobs::enqueue_in(&mut tx, new.id, jobs, new.declared_at).await?;
        tx.commit().await?;
        Ok(Some(incident))
    }

    /// Find an incident by number or id.
    pub async fn find(&self, r: IncidentRef) -> Result<Option<Incident>, StoreError> {
        let row = match r {
            IncidentRef::Number(IncidentNumber(n)) => {
                sqlx::query(AssertSqlSafe(format!(
                    "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE number = ?"
                )))
                .bind(n)
                .fetch_optional(&self.pool)
                .await?
            }
            IncidentRef::Id(id) => {
                sqlx::query(AssertSqlSafe(format!(
                    "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = ?"
                )))
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await?
            }
        };
        row.as_ref().map(rows::incident).transpose()
    }

    /// The incident with its history; current role holders only.
    pub async fn detail(&self, r: IncidentRef) -> Result<Option<IncidentDetail>, StoreError> {
        let Some(incident) = self.find(r).await? else {
            return Ok(None);
        };
        let id = incident.id.to_string();
        let timeline = sqlx::query(
            "SELECT seq, at, recorded_at, author, event, key_moment, edited_from FROM timeline_entries WHERE incident_id = ? AND deleted_at IS NULL ORDER BY at, seq",
        )
        .bind(&id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(rows::timeline_entry)
        .collect::<Result<Vec<_>, _>>()?;
        let all_roles = sqlx::query(
            "SELECT role, person, at, assigned_by FROM role_assignments WHERE incident_id = ? ORDER BY id",
        )
        .bind(&id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(rows::role)
        .collect::<Result<Vec<_>, _>>()?;
        // Latest assignment per role wins; keep the order roles were first filled.
        let mut roles: Vec<muster_core::incident::RoleAssignment> = Vec::new();
        for r in all_roles {
            match roles.iter_mut().find(|x| x.role == r.role) {
                Some(slot) => *slot = r,
                None => roles.push(r),
            }
        }
        // An empty person is a role cleared: its history stays, nobody holds it now.
        roles.retain(|r| !r.person.is_empty());
        let updates = sqlx::query(
            "SELECT at, author, text, status, severity FROM status_updates WHERE incident_id = ? ORDER BY id",
        )
        .bind(&id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(rows::update)
        .collect::<Result<Vec<_>, _>>()?;
        let actions = sqlx::query(
            "SELECT number, text, action_type, priority, owner, link, created_at, created_by, done_at FROM action_items WHERE incident_id = ? ORDER BY number",
        )
        .bind(&id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(rows::action)
        .collect::<Result<Vec<_>, _>>()?;
        let resources = sqlx::query(
            "SELECT kind, system, external_id, url, name FROM resources WHERE incident_id = ? ORDER BY kind, system",
        )
        .bind(&id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(rows::resource)
        .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(IncidentDetail {
            incident,
            roles,
            timeline,
            updates,
            actions,
            resources,
        }))
    }

    /// Incidents newest first.
    pub async fn list(&self, f: &ListFilter) -> Result<Page<Incident>, StoreError> {
        fn filters(q: &mut QueryBuilder<Sqlite>, f: &ListFilter) {
            q.push(" WHERE 1 = 1");
            if let Some(s) = &f.status {
                q.push(" AND status = ").push_bind(s);
            }
            if let Some(s) = &f.severity {
                q.push(" AND severity = ").push_bind(s);
            }
            if let Some(t) = &f.team {
                q.push(" AND team = ").push_bind(t);
            }
            if let Some(s) = &f.search {
                let escaped = s
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_");
                q.push(" AND title LIKE ")
                    .push_bind(format!("%{escaped}%"))
                    .push(" ESCAPE '\\'");
            }
            if !f.include_security {
                match &f.involving {
                    Some(who) => {
                        q.push(" AND (security = 0 OR declared_by = ")
                            .push_bind(who.clone())
                            .push(" OR id IN (SELECT incident_id FROM role_assignments WHERE person = ")
                            .push_bind(who.clone())
                            .push("))");
                    }
                    None => {
                        q.push(" AND security = 0");
                    }
                }
            }
            if !f.include_drills {
                q.push(" AND drill = 0");
            }
        }
        let mut count = QueryBuilder::<Sqlite>::new("SELECT COUNT(*) FROM incidents");
        filters(&mut count, f);
        let total: i64 = count.build_query_scalar().fetch_one(&self.pool).await?;
        let mut q =
            QueryBuilder::<Sqlite>::new(format!("SELECT {INCIDENT_COLUMNS} FROM incidents"));
        filters(&mut q, f);
        q.push(" ORDER BY number DESC LIMIT ")
            .push_bind(i64::from(f.limit.max(1)))
            .push(" OFFSET ")
            .push_bind(i64::from(f.offset));
        let items = q
            .build()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(rows::incident)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page {
            items,
            total: total as u64,
        })
    }

    /// All incidents matching the filter, oldest first, for metrics and exports.
    pub async fn all(&self, f: &ListFilter) -> Result<Vec<Incident>, StoreError> {
        let mut f = f.clone();
        f.limit = u32::MAX;
        f.offset = 0;
        let mut items = self.list(&f).await?.items;
        items.reverse();
        Ok(items)
    }

    /// Apply `change` to `incident` if it is unchanged since it was read.
    pub async fn apply(
        &self,
        incident: &Incident,
        author: &str,
        now: Timestamp,
        change: Change,
    ) -> Result<Incident, StoreError> {
        let id = incident.id;
        let now = next_version(incident, now);
        let now_s = to_storage(now);
        let mut tx = self.pool.begin().await?;
        let mut q = QueryBuilder::<Sqlite>::new("UPDATE incidents SET updated_at = ");
        q.push_bind(now_s.clone());
        if let Some(s) = &change.status {
            q.push(", status = ").push_bind(s);
        }
        if let Some(s) = &change.severity {
            q.push(", severity = ").push_bind(s);
        }
        if let Some(t) = &change.title {
            q.push(", title = ").push_bind(t.as_str());
        }
        if let Some(d) = &change.description {
            q.push(", description = ").push_bind(d);
        }
        if let Some(t) = &change.team {
            q.push(", team = ").push_bind(t);
        }
        if let Some(i) = &change.impact {
            q.push(", detected_at = ")
                .push_bind(i.detected_at.map(to_storage));
            q.push(", started_at = ")
                .push_bind(i.started_at.map(to_storage));
            q.push(", mitigated_at = ")
                .push_bind(i.mitigated_at.map(to_storage));
            q.push(", ended_at = ")
                .push_bind(i.ended_at.map(to_storage));
        }
        if let Some(t) = change.resolved_at {
            q.push(", resolved_at = ").push_bind(to_storage(t));
        }
        if let Some(t) = change.closed_at {
            q.push(", closed_at = ").push_bind(to_storage(t));
        }
        for (field, value) in &change.narrative {
            let col = rows::narrative_column(field)
                .ok_or_else(|| StoreError::Other(format!("unknown report field {field}")))?;
            q.push(format!(", {col} = ")).push_bind(value);
        }
        q.push(" WHERE id = ")
            .push_bind(id.to_string())
            .push(" AND updated_at = ")
            .push_bind(to_storage(incident.updated_at));
        let done = q.build().execute(&mut *tx).await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict);
        }
        for (role, person) in &change.roles {
            insert_role(&mut tx, id, role, person, &now_s, author).await?;
        }
        if let Some(text) = &change.update {
            sqlx::query(
                "INSERT INTO status_updates (incident_id, at, author, text, status, severity) VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(id.to_string())
            .bind(&now_s)
            .bind(author)
            .bind(text)
            .bind(change.status.as_deref().unwrap_or(&incident.status))
            .bind(change.severity.as_deref().unwrap_or(&incident.severity))
            .execute(&mut *tx)
            .await?;
        }
        if let Some((number, a)) = &change.new_action {
            sqlx::query(
                "INSERT INTO action_items (incident_id, number, text, action_type, priority, owner, link, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(id.to_string())
            .bind(number)
            .bind(&a.text)
            .bind(a.action_type.as_str())
            .bind(a.priority.to_string())
            .bind(&a.owner)
            .bind(&a.link)
            .bind(&now_s)
            .bind(author)
            .execute(&mut *tx)
            .await?;
        }
        if let Some(number) = change.complete_action {
            let r = sqlx::query(
                "UPDATE action_items SET done_at = ? WHERE incident_id = ? AND number = ? AND done_at IS NULL",
            )
            .bind(&now_s)
            .bind(id.to_string())
            .bind(number)
            .execute(&mut *tx)
            .await?;
            if r.rows_affected() != 1 {
                return Err(StoreError::Conflict);
            }
        }
        if let Some((number, a)) = &change.edit_action {
            let r = sqlx::query(
                "UPDATE action_items SET text = ?, action_type = ?, priority = ?, owner = ?, link = ? WHERE incident_id = ? AND number = ?",
            )
            .bind(&a.text)
            .bind(a.action_type.as_str())
            .bind(a.priority.to_string())
            .bind(&a.owner)
            .bind(&a.link)
            .bind(id.to_string())
            .bind(number)
            .execute(&mut *tx)
            .await?;
            if r.rows_affected() != 1 {
                return Err(StoreError::Conflict);
            }
        }
        if let Some(number) = change.reopen_action {
            let r = sqlx::query(
                "UPDATE action_items SET done_at = NULL WHERE incident_id = ? AND number = ? AND done_at IS NOT NULL",
            )
            .bind(id.to_string())
            .bind(number)
            .execute(&mut *tx)
            .await?;
            if r.rows_affected() != 1 {
                return Err(StoreError::Conflict);
            }
        }
        if let Some((seq, text)) = &change.revise_note {
            revise_note(&mut tx, id, *seq, text.as_deref(), &now_s).await?;
        }
        if let Some((seq, key)) = change.key_moment {
            let r = sqlx::query(
                "UPDATE timeline_entries SET key_moment = ? WHERE incident_id = ? AND seq = ? AND deleted_at IS NULL",
            )
            .bind(key as i64)
            .bind(id.to_string())
            .bind(seq)
            .execute(&mut *tx)
            .await?;
            if r.rows_affected() != 1 {
                return Err(StoreError::Conflict);
            }
        }
        for (at, e) in &change.events {
            append_entry(&mut tx, id, &to_storage(*at), &now_s, author, e, None).await?;
        }
        crate::jobs::enqueue_in(&mut tx, id, &change.jobs, now).await?;
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = ?"
        )))
        .bind(id.to_string())
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        rows::incident(&row)
    }

    /// Count incidents (all of them), for metrics and tests.
    pub async fn count(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM incidents")
            .fetch_one(&self.pool)
            .await?;
        Ok(n as u64)
    }
}

/// Hide note `seq` (kept, with `deleted_at`) and, with `text`, write its new version at the
/// same time, by the same author, as a key moment if it was one, naming the old entry.
async fn revise_note(
    tx: &mut Transaction<'_, Sqlite>,
    id: IncidentId,
    seq: i64,
    text: Option<&str>,
    now: &str,
) -> Result<(), StoreError> {
    let old = sqlx::query(
        "SELECT at, author, key_moment FROM timeline_entries WHERE incident_id = ? AND seq = ? AND deleted_at IS NULL",
    )
    .bind(id.to_string())
    .bind(seq)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(StoreError::Conflict)?;
    sqlx::query("UPDATE timeline_entries SET deleted_at = ? WHERE seq = ?")
        .bind(now)
        .bind(seq)
        .execute(&mut **tx)
        .await?;
    if let Some(text) = text {
        let event = TimelineEvent::Note {
            text: text.to_owned(),
        };
        let json = serde_json::to_string(&event).map_err(|e| StoreError::Other(e.to_string()))?;
        let at: String = old.try_get("at")?;
        let author: String = old.try_get("author")?;
        let key: i64 = old.try_get("key_moment")?;
        sqlx::query(
            "INSERT INTO timeline_entries (incident_id, at, recorded_at, author, kind, event, key_moment, edited_from) VALUES (?, ?, ?, ?, 'note', ?, ?, ?)",
        )
        .bind(id.to_string())
        .bind(at)
        .bind(now)
        .bind(author)
        .bind(json)
        .bind(key)
        .bind(seq)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn insert_role(
    tx: &mut Transaction<'_, Sqlite>,
    id: IncidentId,
    role: &str,
    person: &str,
    at: &str,
    by: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO role_assignments (incident_id, role, person, at, assigned_by) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(id.to_string())
    .bind(role)
    .bind(person)
    .bind(at)
    .bind(by)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(crate) async fn upsert_resource(
    tx: &mut Transaction<'_, Sqlite>,
    id: IncidentId,
    r: &ExternalRef,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO resources (incident_id, kind, system, external_id, url, name) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (incident_id, kind, system) DO UPDATE SET external_id = excluded.external_id, url = excluded.url, name = excluded.name",
    )
    .bind(id.to_string())
    .bind(r.kind.as_str())
    .bind(&r.system)
    .bind(&r.external_id)
    .bind(&r.url)
    .bind(&r.name)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(crate) async fn append_entry(
    tx: &mut Transaction<'_, Sqlite>,
    id: IncidentId,
    at: &str,
    recorded_at: &str,
    author: &str,
    event: &TimelineEvent,
    source_key: Option<&str>,
) -> Result<(), StoreError> {
    let json = serde_json::to_value(event).map_err(|e| StoreError::Other(e.to_string()))?;
    let kind = json
        .get("kind")
        .and_then(|k| k.as_str())
        .unwrap_or("unknown")
        .to_owned();
    sqlx::query(
        "INSERT INTO timeline_entries (incident_id, at, recorded_at, author, kind, event, source_key) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id.to_string())
    .bind(at)
    .bind(recorded_at)
    .bind(author)
    .bind(kind)
    .bind(json.to_string())
    .bind(source_key)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The incident, its roles, resources and first timeline entries.
pub(crate) async fn insert_incident_in(
    tx: &mut Transaction<'_, Sqlite>,
    new: &NewIncident,
) -> Result<Incident, StoreError> {
    // Writing first takes SQLite's write lock at once, so concurrent declarations
    // queue on the busy timeout instead of failing on a lock upgrade.
    let number: i64 = sqlx::query_scalar(
        "UPDATE counters SET value = value + 1 WHERE name = 'incident_number' RETURNING value",
    )
    .fetch_one(&mut **tx)
    .await?;
    let at = to_storage(new.declared_at);
    sqlx::query(
        "INSERT INTO incidents (id, number, title, description, severity, status, team, security, drill, channel_name, declared_by, declared_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(new.id.to_string())
    .bind(number)
    .bind(new.title.as_str())
    .bind(&new.description)
    .bind(&new.severity)
    .bind(&new.status)
    .bind(&new.team)
    .bind(new.security as i64)
    .bind(new.drill as i64)
    .bind(new.channel_name.as_str())
    .bind(&new.declared_by)
    .bind(&at)
    .bind(&at)
    .execute(&mut **tx)
    .await?;
    for (role, person) in &new.roles {
        insert_role(tx, new.id, role, person, &at, &new.declared_by).await?;
    }
    for r in &new.resources {
        upsert_resource(tx, new.id, r).await?;
    }
    for e in &new.events {
        append_entry(tx, new.id, &at, &at, &new.declared_by, e, None).await?;
    }
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = ?"
    )))
    .bind(new.id.to_string())
    .fetch_one(&mut **tx)
    .await?;
    rows::incident(&row)
}
