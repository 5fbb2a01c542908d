//! API tokens: names and SHA-256 hashes, never the tokens themselves.

use crate::{Store, StoreError};
use muster_core::record::TokenInfo;
use muster_core::time::{Timestamp, to_storage};
use sqlx::Row;

impl Store {
    /// Store a new token's hash under `name`. Returns false if an active token already
    /// has that name. Revoked tokens of that name stay, listed with their dates: history is
    /// kept, never replaced.
    pub async fn create_token(
        &self,
        name: &str,
        hash: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        // The partial unique index (active names) decides, so two concurrent creations
        // cannot both win.
        let r = sqlx::query(
            "INSERT INTO api_tokens (name, token_hash, created_at) VALUES (?, ?, ?) ON CONFLICT (name) WHERE revoked_at IS NULL DO NOTHING",
        )
        .bind(name)
        .bind(hash)
        .bind(to_storage(now))
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    pub async fn list_tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        let rows = sqlx::query(
            "SELECT name, created_at, last_used_at, revoked_at FROM api_tokens ORDER BY name, id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TokenInfo {
                    name: r.try_get("name")?,
                    created_at: r.try_get("created_at")?,
                    last_used_at: r.try_get("last_used_at")?,
                    revoked_at: r.try_get("revoked_at")?,
                })
            })
            .collect()
    }

    /// Revoke the active token called `name`; false if there is none.
    pub async fn revoke_token(&self, name: &str, now: Timestamp) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "UPDATE api_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
        )
        .bind(to_storage(now))
        .bind(name)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// The name of the active token with this hash, if any.
    pub async fn token_name(&self, hash: &str) -> Result<Option<String>, StoreError> {
        Ok(self.active_token(hash).await?.map(|(name, _)| name))
    }

    /// The name of the active token with this hash and when it was last used (storage
    /// text), if it is active.
    pub async fn active_token(
        &self,
        hash: &str,
    ) -> Result<Option<(String, Option<String>)>, StoreError> {
        let r = sqlx::query(
            "SELECT name, last_used_at FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL",
        )
        .bind(hash)
        .fetch_optional(self.pool())
        .await?;
        r.map(|r| Ok((r.try_get("name")?, r.try_get("last_used_at")?)))
            .transpose()
    }

    /// Note that the active token with this hash was used now.
    pub async fn touch_token(&self, hash: &str, now: Timestamp) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE api_tokens SET last_used_at = ? WHERE token_hash = ? AND revoked_at IS NULL",
        )
        .bind(to_storage(now))
        .bind(hash)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Incident counts by (status, severity, security), for the metrics endpoint.
    /// Incidents by status and severity for `/metrics`, which anyone may scrape: drills
    /// and security incidents are left out (a count that moves would reveal one).
    pub async fn counts(&self) -> Result<Vec<(String, String, u64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT status, severity, COUNT(*) AS n FROM incidents WHERE drill = 0 AND security = 0 GROUP BY status, severity",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("status")?,
                    r.try_get("severity")?,
                    r.try_get::<i64, _>("n")? as u64,
                ))
            })
            .collect()
    }
}
