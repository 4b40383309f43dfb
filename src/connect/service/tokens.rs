//! Connect tokens: the backend asks for one per user and action (`passkey-append`, `-list`,
//! `-delete`, `-login`) and hands its `ctk1_…` secret to the browser, which spends it on one
//! frontend-API call. Short-lived, single-use, bound to one identifier and one action; the
//! store keeps only the secret's SHA-256, and spending it is one atomic
//! `UPDATE … WHERE status = 'initial' … RETURNING`.

use sqlx::any::{AnyQueryResult, AnyRow};
use sqlx::Row;

use super::{hash, new_id, ConnectError, ConnectService};
use crate::connect::api::{
    ConnectToken, ConnectTokenCreateReq, ConnectTokenData, ConnectTokenList, ConnectTokenStatus,
    ConnectTokenType, ListQuery, Paging,
};
use crate::events::{Event, EventType, Reason};

/// Identifiers and display names longer than this are refused.
const MAX_FIELD_LEN: usize = 256;
const DEFAULT_PAGE_SIZE: u32 = 10;
const MAX_PAGE_SIZE: u32 = 100;

/// What a spent token grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant {
    pub id: String,
    pub identifier: String,
    pub display_name: String,
}

const COLUMNS: &str = "id, token_type, identifier, display_name, status, expires_at";

fn token_from_row(row: &AnyRow) -> Result<ConnectToken, ConnectError> {
    let token_type: String = row.try_get("token_type")?;
    let status: String = row.try_get("status")?;
    let display_name: String = row.try_get("display_name")?;
    let token_type = token_type
        .parse::<ConnectTokenType>()
        .ok()
        .ok_or_else(|| ConnectError::internal("stored token type", &token_type))?;
    Ok(ConnectToken {
        id: row.try_get("id")?,
        token_type,
        data: ConnectTokenData {
            identifier: row.try_get("identifier")?,
            display_name: (token_type == ConnectTokenType::PasskeyAppend).then_some(display_name),
        },
        connect_token_status: status
            .parse::<ConnectTokenStatus>()
            .ok()
            .ok_or_else(|| ConnectError::internal("stored token status", &status))?,
        expires: row.try_get("expires_at")?,
        secret: None,
    })
}

fn check_text(field: &str, value: &str) -> Result<(), ConnectError> {
    if value.trim().is_empty() {
        return Err(ConnectError::validation(field, "must not be empty"));
    }
    if value.len() > MAX_FIELD_LEN {
        return Err(ConnectError::validation(
            field,
            format!("must be at most {MAX_FIELD_LEN} bytes"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(ConnectError::validation(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// A list filter turned into SQL: the column (from a fixed list), the operator and the value.
struct Filter {
    column: &'static str,
    op: &'static str,
    value: FilterValue,
}

enum FilterValue {
    Text(String),
    Number(i64),
}

/// `field:op:value` (Corbado's `filter[]`); only fields and operators we know are accepted.
fn parse_filter(filter: &str) -> Result<Filter, ConnectError> {
    let bad = |message: String| ConnectError::validation("filter[]", message);
    let mut parts = filter.splitn(3, ':');
    let (Some(field), Some(op), Some(value)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad(format!("{filter:?} is not field:op:value")));
    };
    let op = match op {
        "eq" => "=",
        "gt" => ">",
        other => return Err(bad(format!("unknown operator {other:?} (use eq or gt)"))),
    };
    let (column, value) = match field {
        "token" | "id" => ("id", FilterValue::Text(value.to_string())),
        "tokenType" => {
            if value.parse::<ConnectTokenType>().is_err() {
                return Err(bad(format!("{value:?} is not a connect token type")));
            }
            ("token_type", FilterValue::Text(value.to_string()))
        }
        "status" => {
            if value.parse::<ConnectTokenStatus>().is_err() {
                return Err(bad(format!(
                    "{value:?} is not a status (initial, consumed)"
                )));
            }
            ("status", FilterValue::Text(value.to_string()))
        }
        "identifier" => ("identifier", FilterValue::Text(value.to_string())),
        "expires" => (
            "expires_at",
            FilterValue::Number(
                value
                    .parse()
                    .map_err(|_| bad(format!("{value:?} is not a unix time")))?,
            ),
        ),
        other => return Err(bad(format!("unknown field {other:?}"))),
    };
    Ok(Filter { column, op, value })
}

/// `field`, `field:asc`, `field:desc` or `-field` → an ORDER BY clause from a fixed list.
fn parse_sort(sort: Option<&str>) -> Result<String, ConnectError> {
    let Some(sort) = sort.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok("created_at DESC, id".to_string());
    };
    let (field, descending) = match sort.split_once(':') {
        Some((field, "asc")) => (field, false),
        Some((field, "desc")) => (field, true),
        Some(_) => {
            return Err(ConnectError::validation(
                "sort",
                "use field, field:asc or field:desc",
            ))
        }
        None => match sort.strip_prefix('-') {
            Some(field) => (field, true),
            None => (sort, false),
        },
    };
    let column = match field {
        "token" | "id" => "id",
        "tokenType" => "token_type",
        "status" => "status",
        "expires" => "expires_at",
        "identifier" => "identifier",
        other => {
            return Err(ConnectError::validation(
                "sort",
                format!("cannot sort by {other:?}"),
            ))
        }
    };
    Ok(format!(
        "{column} {}, id",
        if descending { "DESC" } else { "ASC" }
    ))
}

/// `(page, page_size)` with Corbado's defaults (1, 10).
pub(crate) fn paging(query: &ListQuery) -> Result<(u32, u32), ConnectError> {
    let page = query.page.unwrap_or(1);
    let size = query.page_size.unwrap_or(DEFAULT_PAGE_SIZE);
    if page == 0 {
        return Err(ConnectError::validation("page", "starts at 1"));
    }
    if size == 0 || size > MAX_PAGE_SIZE {
        return Err(ConnectError::validation(
            "pageSize",
            format!("must be from 1 to {MAX_PAGE_SIZE}"),
        ));
    }
    Ok((page, size))
}

pub(crate) fn paging_of(page: u32, size: u32, total: i64) -> Paging {
    let total = u32::try_from(total).unwrap_or(u32::MAX);
    Paging {
        page,
        total_pages: total.div_ceil(size),
        total_items: total,
    }
}

impl ConnectService {
    /// `POST /v2/connectTokens`.
    pub async fn create_connect_token(
        &self,
        req: &ConnectTokenCreateReq,
    ) -> Result<ConnectToken, ConnectError> {
        check_text("data.identifier", &req.data.identifier)?;
        let display_name = match (req.token_type, req.data.display_name.as_deref()) {
            (ConnectTokenType::PasskeyAppend, Some(name)) => {
                check_text("data.displayName", name)?;
                name.to_string()
            }
            (ConnectTokenType::PasskeyAppend, None) => {
                return Err(ConnectError::validation(
                    "data.displayName",
                    "is required for passkey-append",
                ))
            }
            _ => String::new(),
        };
        let settings = self.settings();
        let max = settings.token_max_lifetime.as_secs() as i64;
        let lifetime = match req.max_lifetime_in_seconds {
            None => settings.token_lifetime.as_secs() as i64,
            Some(secs) if secs >= 1 => secs.min(max),
            Some(_) => {
                return Err(ConnectError::validation(
                    "maxLifetimeInSeconds",
                    "must be at least 1",
                ))
            }
        };
        let secret = format!("ctk1_{}", crate::random::token(32));
        let now = self.now();
        let token = ConnectToken {
            id: new_id("ctk"),
            token_type: req.token_type,
            data: ConnectTokenData {
                identifier: req.data.identifier.clone(),
                display_name: (req.token_type == ConnectTokenType::PasskeyAppend)
                    .then(|| display_name.clone()),
            },
            connect_token_status: ConnectTokenStatus::Initial,
            expires: now + lifetime,
            secret: Some(secret.clone()),
        };
        sqlx::query(
            "INSERT INTO connect_tokens (id, secret_hash, token_type, identifier, display_name,
                 status, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&token.id)
        .bind(hash(&secret))
        .bind(req.token_type.as_ref())
        .bind(&req.data.identifier)
        .bind(&display_name)
        .bind(ConnectTokenStatus::Initial.as_ref())
        .bind(now)
        .bind(token.expires)
        .execute(self.store().pool())
        .await?;
        tracing::debug!(id = %token.id, kind = req.token_type.as_ref(), "connect token created");
        Ok(token)
    }

    /// `GET /v2/connectTokens`.
    pub async fn list_connect_tokens(
        &self,
        query: &ListQuery,
    ) -> Result<ConnectTokenList, ConnectError> {
        let filters = query
            .filters
            .iter()
            .map(|f| parse_filter(f))
            .collect::<Result<Vec<_>, _>>()?;
        let order = parse_sort(query.sort.as_deref())?;
        let (page, size) = paging(query)?;
        let mut clause = String::new();
        for (i, filter) in filters.iter().enumerate() {
            clause.push_str(if i == 0 { " WHERE " } else { " AND " });
            clause.push_str(&format!("{} {} ${}", filter.column, filter.op, i + 1));
        }
        // Columns, operators and the order come from the fixed lists above; values are bound.
        let count_sql = format!("SELECT COUNT(*) AS n FROM connect_tokens{clause}");
        let list_sql = format!(
            "SELECT {COLUMNS} FROM connect_tokens{clause} ORDER BY {order} LIMIT {size} OFFSET {}",
            u64::from(page - 1) * u64::from(size)
        );
        let mut count = sqlx::query(sqlx::AssertSqlSafe(count_sql));
        let mut list = sqlx::query(sqlx::AssertSqlSafe(list_sql));
        for filter in &filters {
            match &filter.value {
                FilterValue::Text(text) => {
                    count = count.bind(text.clone());
                    list = list.bind(text.clone());
                }
                FilterValue::Number(n) => {
                    count = count.bind(*n);
                    list = list.bind(*n);
                }
            }
        }
        let total: i64 = count.fetch_one(self.store().pool()).await?.try_get("n")?;
        let rows = list.fetch_all(self.store().pool()).await?;
        Ok(ConnectTokenList {
            connect_tokens: rows.iter().map(token_from_row).collect::<Result<_, _>>()?,
            paging: paging_of(page, size, total),
        })
    }

    /// `PATCH /v2/connectTokens/{id}`.
    pub async fn set_connect_token_status(
        &self,
        id: &str,
        status: ConnectTokenStatus,
    ) -> Result<(), ConnectError> {
        let done = sqlx::query("UPDATE connect_tokens SET status = $1 WHERE id = $2")
            .bind(status.as_ref())
            .bind(id)
            .execute(self.store().pool())
            .await?;
        found_a_token(&done)
    }

    /// `DELETE /v2/connectTokens/{id}`.
    pub async fn delete_connect_token(&self, id: &str) -> Result<(), ConnectError> {
        let done = sqlx::query("DELETE FROM connect_tokens WHERE id = $1")
            .bind(id)
            .execute(self.store().pool())
            .await?;
        found_a_token(&done)
    }

    /// Spends a connect token for `action`: it must exist, be unspent, unexpired and of that
    /// type. Only one of any number of concurrent spends succeeds. A token of another type is
    /// left untouched.
    pub async fn consume_connect_token(
        &self,
        field: &str,
        secret: &str,
        action: ConnectTokenType,
    ) -> Result<TokenGrant, ConnectError> {
        let refused = |why: &str| {
            tracing::info!(action = action.as_ref(), why, "connect token refused");
            ConnectError::validation(
                field,
                "the connect token is invalid, expired, already used, or for another action",
            )
        };
        if !secret.starts_with("ctk1_") || secret.len() > 128 {
            self.token_refused(action, Reason::Invalid, None).await;
            return Err(refused("malformed"));
        }
        let secret_hash = hash(secret);
        let row = sqlx::query(
            "UPDATE connect_tokens SET status = 'consumed'
             WHERE secret_hash = $1 AND status = 'initial' AND token_type = $2
               AND expires_at > $3
             RETURNING id, identifier, display_name",
        )
        .bind(&secret_hash)
        .bind(action.as_ref())
        .bind(self.now())
        .fetch_optional(self.store().pool())
        .await?;
        if let Some(row) = row {
            return Ok(TokenGrant {
                id: row.try_get("id")?,
                identifier: row.try_get("identifier")?,
                display_name: row.try_get("display_name")?,
            });
        }
        // Say in the log why (never the secret); the client gets one message for all cases.
        let known = sqlx::query(
            "SELECT token_type, status, identifier FROM connect_tokens WHERE secret_hash = $1",
        )
        .bind(&secret_hash)
        .fetch_optional(self.store().pool())
        .await?;
        let (why, reason, identifier) = match known {
            None => ("unknown", Reason::Invalid, None),
            Some(row) => {
                let token_type: String = row.try_get("token_type")?;
                let status: String = row.try_get("status")?;
                let identifier: Option<String> = row.try_get("identifier")?;
                if token_type != action.as_ref() {
                    ("wrong action", Reason::WrongType, identifier)
                } else if status != "initial" {
                    ("already used", Reason::Consumed, identifier)
                } else {
                    ("expired", Reason::Expired, identifier)
                }
            }
        };
        self.token_refused(action, reason, identifier).await;
        Err(refused(why))
    }

    /// `token.refused`: which action it was offered for and why (never the secret).
    async fn token_refused(
        &self,
        action: ConnectTokenType,
        reason: Reason,
        identifier: Option<String>,
    ) {
        let mut event = Event::new(EventType::TokenRefused)
            .with_reason(reason)
            .with_detail(action.as_ref());
        if let Some(identifier) = identifier {
            event = event.with_account(identifier);
        }
        self.record(event).await;
    }
}

/// A statement naming a connect token by id that touched no row: there is no such token.
fn found_a_token(done: &AnyQueryResult) -> Result<(), ConnectError> {
    if done.rows_affected() == 0 {
        return Err(ConnectError::not_found("connect token not found"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_accept_only_known_fields_and_operators() {
        assert!(parse_filter("tokenType:eq:passkey-append").is_ok());
        assert!(parse_filter("expires:gt:1700000000").is_ok());
        assert!(parse_filter("identifier:eq:acc:with:colons").is_ok());
        for bad in [
            "secret_hash:eq:x",
            "tokenType:like:x",
            "tokenType:eq:nope",
            "expires:gt:soon",
            "status",
            "status:eq:; DROP TABLE connect_tokens",
        ] {
            assert!(parse_filter(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sort_accepts_only_known_fields() {
        assert_eq!(
            parse_sort(Some("expires:desc")).unwrap(),
            "expires_at DESC, id"
        );
        assert_eq!(parse_sort(Some("-status")).unwrap(), "status DESC, id");
        assert!(parse_sort(Some("secret_hash")).is_err());
        assert!(parse_sort(Some("expires:sideways")).is_err());
    }

    #[test]
    fn paging_has_corbado_defaults_and_bounds() {
        assert_eq!(paging(&ListQuery::default()).unwrap(), (1, 10));
        let bad = ListQuery {
            page_size: Some(1000),
            ..ListQuery::default()
        };
        assert!(paging(&bad).is_err());
        assert_eq!(paging_of(2, 10, 25).total_pages, 3);
    }
}
