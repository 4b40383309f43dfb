//! `GET /admin/overview.csv?days=7|30|90`: the Overview's daily table as a download. The
//! request guard lets only operators with a recent login this far; checked again here.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Extension;

use super::middleware::operator_of;
use super::state::AppState;
use crate::console::overview;
use crate::error::AppError;
use crate::journey::Operator;
use crate::session::CurrentSession;

#[derive(serde::Deserialize)]
pub struct Period {
    days: Option<u32>,
}

pub async fn overview_csv(
    State(app): State<AppState>,
    current: Option<Extension<CurrentSession>>,
    Query(period): Query<Period>,
) -> Response {
    let current = current.map(|Extension(c)| c).unwrap_or_default();
    if operator_of(&app, &current) != Operator::Recent {
        return AppError::NotFound.into_response();
    }
    let days = period.days.unwrap_or(30);
    if !overview::PERIODS.contains(&days) {
        return AppError::Invalid("Choose 7, 30 or 90 days.".into()).into_response();
    }
    match overview::overview(
        &app.store,
        &app.config.connect_service.providers,
        days,
        crate::store::now(),
    )
    .await
    {
        Ok(figures) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"latchkey-overview-{days}d.csv\""),
                ),
                (header::CACHE_CONTROL, "no-store".to_string()),
            ],
            overview::csv(&figures.days),
        )
            .into_response(),
        Err(err) => AppError::internal("reading the overview", err).into_response(),
    }
}
