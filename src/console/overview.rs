//! The console's Overview: for the last 7, 30 or 90 days, logins per day by method, the
//! append funnel, passkey logins and why they fell back, the share of active accounts with a
//! passkey, and passkey providers.
//!
//! Counts come from daily roll-ups (`event_daily_counts`) that are brought up to date from
//! the audit log before each read: only the events recorded since the last read are folded
//! in, so a read stays fast however long the log is, and the counts outlive the audit log's
//! retention.

use crate::connect::providers::ProviderDirectory;
use std::collections::BTreeMap;

use sqlx::Row;

pub use super::model::{DailyRow, Overview};
use crate::events::EventType;
use crate::store::Store;

/// Events folded per transaction while catching up.
const FOLD_BATCH: i64 = 50_000;
const DAY: i64 = 86_400;

/// The periods the Overview offers.
pub const PERIODS: [u32; 3] = [7, 30, 90];

/// The CSV's header, as operators' spreadsheets expect it.
pub const CSV_HEADER: &str = "date,passkey_logins,password_logins,oidc_logins,passkeys_created,append_skipped,passkey_fallbacks";

/// The daily table as CSV (header, then one line per day, oldest first).
pub fn csv(days: &[DailyRow]) -> String {
    let mut out = String::from(CSV_HEADER);
    out.push('\n');
    for d in days {
        out.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            d.date,
            d.passkey_logins,
            d.password_logins,
            d.oidc_logins,
            d.passkeys_created,
            d.append_skipped,
            d.passkey_fallbacks
        ));
    }
    out
}

/// Folds the events recorded since the last fold into the daily counts. Instances folding
/// at once line up on the state row (locked first), so no event is counted twice.
pub async fn catch_up(store: &Store) -> Result<u64, sqlx::Error> {
    let mut folded = 0;
    loop {
        let mut tx = store.pool().begin().await?;
        let last: i64 = sqlx::query(
            "UPDATE event_rollup_state SET last_seq = last_seq WHERE id = 1 RETURNING last_seq",
        )
        .fetch_one(&mut *tx)
        .await?
        .try_get("last_seq")?;
        let rows = sqlx::query(
            "SELECT seq, occurred_at, event_type, reason FROM audit_events
             WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(last)
        .bind(FOLD_BATCH)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            tx.rollback().await?;
            return Ok(folded);
        }
        let mut counts: BTreeMap<(i64, String, String), i64> = BTreeMap::new();
        let mut newest = last;
        for row in &rows {
            let seq: i64 = row.try_get("seq")?;
            let at: i64 = row.try_get("occurred_at")?;
            let event_type: String = row.try_get("event_type")?;
            let reason: Option<String> = row.try_get("reason")?;
            *counts
                .entry((at.div_euclid(DAY), event_type, reason.unwrap_or_default()))
                .or_default() += 1;
            newest = newest.max(seq);
        }
        for ((day, event_type, reason), count) in &counts {
            sqlx::query(
                "INSERT INTO event_daily_counts (day, event_type, reason, count)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (day, event_type, reason)
                 DO UPDATE SET count = event_daily_counts.count + $4",
            )
            .bind(day)
            .bind(event_type)
            .bind(reason)
            .bind(count)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("UPDATE event_rollup_state SET last_seq = $1 WHERE id = 1")
            .bind(newest)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        folded += rows.len() as u64;
    }
}

/// The Overview of the `days` days up to `now` (today included).
pub async fn overview(
    store: &Store,
    providers: &ProviderDirectory,
    days: u32,
    now: i64,
) -> Result<Overview, sqlx::Error> {
    catch_up(store).await?;
    let today = now.div_euclid(DAY);
    let first = today - i64::from(days.max(1)) + 1;
    let rows = sqlx::query(
        "SELECT day, event_type, reason, count FROM event_daily_counts
         WHERE day >= $1 AND day <= $2",
    )
    .bind(first)
    .bind(today)
    .fetch_all(store.pool())
    .await?;
    let mut overview = Overview {
        days: (first..=today)
            .map(|day| DailyRow {
                date: date_of(day),
                ..DailyRow::default()
            })
            .collect(),
        ..Overview::default()
    };
    let mut skipped: BTreeMap<String, i64> = BTreeMap::new();
    let mut fell_back: BTreeMap<String, i64> = BTreeMap::new();
    for row in &rows {
        let day: i64 = row.try_get("day")?;
        let count: i64 = row.try_get("count")?;
        let reason: String = row.try_get("reason")?;
        let Ok(event_type) = row.try_get::<String, _>("event_type")?.parse::<EventType>() else {
            continue;
        };
        let Some(daily) = usize::try_from(day - first)
            .ok()
            .and_then(|i| overview.days.get_mut(i))
        else {
            continue;
        };
        use EventType::*;
        match event_type {
            PasskeyLoginCompleted => {
                daily.passkey_logins += count;
                overview.passkey_completed += count;
            }
            PasswordLoginSucceeded => daily.password_logins += count,
            OidcLoginSucceeded => daily.oidc_logins += count,
            PasskeyCreated => {
                daily.passkeys_created += count;
                overview.append_created += count;
            }
            AppendSkipped => {
                daily.append_skipped += count;
                *skipped.entry(reason_or_unknown(reason)).or_default() += count;
            }
            PasskeyLoginFellBack => {
                daily.passkey_fallbacks += count;
                *fell_back.entry(reason_or_unknown(reason)).or_default() += count;
            }
            AppendOffered => overview.append_offered += count,
            PasskeyLoginStarted => overview.passkey_started += count,
            PasskeyLoginFailed => overview.passkey_failed += count,
            _ => {}
        }
    }
    overview.append_skipped = most_first(skipped);
    overview.passkey_fell_back = most_first(fell_back);
    let since = first * DAY;
    overview.active_accounts =
        sqlx::query("SELECT COUNT(*) AS n FROM accounts WHERE last_login_at >= $1")
            .bind(since)
            .fetch_one(store.pool())
            .await?
            .try_get("n")?;
    // The passkey service's tables are here only when it shares the app's database.
    overview.active_with_passkey = sqlx::query(
        "SELECT COUNT(*) AS n FROM accounts a WHERE a.last_login_at >= $1 AND EXISTS (
             SELECT 1 FROM connect_users u JOIN connect_credentials c ON c.user_id = u.id
             WHERE u.identifier = a.id)",
    )
    .bind(since)
    .fetch_one(store.pool())
    .await
    .ok()
    .and_then(|row| row.try_get("n").ok());
    if let Ok(rows) =
        sqlx::query("SELECT aaguid, COUNT(*) AS n FROM connect_credentials GROUP BY aaguid")
            .fetch_all(store.pool())
            .await
    {
        let mut by_provider: BTreeMap<String, i64> = BTreeMap::new();
        for row in &rows {
            let aaguid: String = row.try_get("aaguid")?;
            let name = providers.name(&aaguid).unwrap_or("Other passkey providers");
            *by_provider.entry(name.to_string()).or_default() += row.try_get::<i64, _>("n")?;
        }
        overview.providers = most_first(by_provider);
    }
    Ok(overview)
}

fn reason_or_unknown(reason: String) -> String {
    if reason.is_empty() {
        "unknown".into()
    } else {
        reason
    }
}

/// Counts, largest first (ties by name).
fn most_first(counts: BTreeMap<String, i64>) -> Vec<(String, i64)> {
    let mut list: Vec<_> = counts.into_iter().collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    list
}

/// `YYYY-MM-DD` of a day number (days since 1970-01-01, UTC).
pub fn date_of(day: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(day * DAY)
        .map(|t| t.date().to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csv_has_the_agreed_header_and_one_line_per_day() {
        let days = vec![
            DailyRow {
                date: "2026-11-30".into(),
                passkey_logins: 3,
                password_logins: 2,
                oidc_logins: 1,
                passkeys_created: 1,
                append_skipped: 4,
                passkey_fallbacks: 5,
            },
            DailyRow {
                date: "2026-12-01".into(),
                ..DailyRow::default()
            },
        ];
        assert_eq!(
            csv(&days),
            "date,passkey_logins,password_logins,oidc_logins,passkeys_created,append_skipped,passkey_fallbacks\n\
             2026-11-30,3,2,1,1,4,5\n\
             2026-12-01,0,0,0,0,0,0\n"
        );
    }

    #[test]
    fn days_are_utc_dates() {
        assert_eq!(date_of(0), "1970-01-01");
        assert_eq!(date_of(1_764_547_200 / DAY), "2025-12-01");
    }
}
