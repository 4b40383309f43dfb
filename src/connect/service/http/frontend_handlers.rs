//! Frontend API handlers (`/v2/connect/…`; origin already checked by the layer). The process
//! id travels in `X-Corbado-Process-ID`.

use axum::extract::State;
use axum::http::header::USER_AGENT;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;

use super::ApiJson;
use crate::connect::api::paths::PROCESS_HEADER;
use crate::connect::api::{
    AppendFinishReq, AppendFinishRsp, AppendInitRsp, AppendStartReq, AppendStartRsp,
    EventCreateReq, InitReq, LoginFinishReq, LoginFinishRsp, LoginInitRsp, LoginStartReq,
    LoginStartRsp, ManageDeleteReq, ManageDeleteRsp, ManageInitRsp, ManageListReq, ManageListRsp,
    ManageRenameReq, ManageRenameRsp, ProcessClearReq, ProcessClearRsp,
};
use crate::connect::service::{ConnectError, ConnectService};

type ApiResult<T> = Result<Json<T>, ConnectError>;

fn process_id(headers: &HeaderMap) -> Option<&str> {
    headers.get(PROCESS_HEADER).and_then(|v| v.to_str().ok())
}

fn user_agent(headers: &HeaderMap) -> Option<&str> {
    headers.get(USER_AGENT).and_then(|v| v.to_str().ok())
}

pub(super) async fn login_init(
    State(service): State<ConnectService>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<InitReq>,
) -> ApiResult<LoginInitRsp> {
    service
        .login_init(&req, user_agent(&headers))
        .await
        .map(Json)
}

pub(super) async fn login_start(
    State(service): State<ConnectService>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<LoginStartReq>,
) -> ApiResult<LoginStartRsp> {
    service
        .login_start(process_id(&headers), &req)
        .await
        .map(Json)
}

pub(super) async fn login_finish(
    State(service): State<ConnectService>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<LoginFinishReq>,
) -> ApiResult<LoginFinishRsp> {
    service
        .login_finish(process_id(&headers), &req)
        .await
        .map(Json)
}

pub(super) async fn append_init(
    State(service): State<ConnectService>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<InitReq>,
) -> ApiResult<AppendInitRsp> {
    service
        .append_init(&req, user_agent(&headers))
        .await
        .map(Json)
}

pub(super) async fn append_start(
    State(service): State<ConnectService>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<AppendStartReq>,
) -> ApiResult<AppendStartRsp> {
    service
        .append_start(process_id(&headers), &req)
        .await
        .map(Json)
}

pub(super) async fn append_finish(
    State(service): State<ConnectService>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<AppendFinishReq>,
) -> ApiResult<AppendFinishRsp> {
    service
        .append_finish(process_id(&headers), &req)
        .await
        .map(Json)
}

pub(super) async fn manage_init(
    State(service): State<ConnectService>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<InitReq>,
) -> ApiResult<ManageInitRsp> {
    service
        .manage_init(&req, user_agent(&headers))
        .await
        .map(Json)
}

pub(super) async fn manage_list(
    State(service): State<ConnectService>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<ManageListReq>,
) -> ApiResult<ManageListRsp> {
    service
        .manage_list(process_id(&headers), &req)
        .await
        .map(Json)
}

pub(super) async fn manage_delete(
    State(service): State<ConnectService>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<ManageDeleteReq>,
) -> ApiResult<ManageDeleteRsp> {
    service
        .manage_delete(process_id(&headers), &req)
        .await
        .map(Json)
}

pub(super) async fn manage_rename(
    State(service): State<ConnectService>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<ManageRenameReq>,
) -> ApiResult<ManageRenameRsp> {
    service
        .manage_rename(process_id(&headers), &req)
        .await
        .map(Json)
}

pub(super) async fn process_clear(
    State(service): State<ConnectService>,
    ApiJson(req): ApiJson<ProcessClearReq>,
) -> ApiResult<ProcessClearRsp> {
    if service.clear_process(&req.process_id).await? {
        Ok(Json(ProcessClearRsp {
            process_id: req.process_id,
        }))
    } else {
        Err(ConnectError::not_found("process not found"))
    }
}

pub(super) async fn events(
    State(service): State<ConnectService>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<EventCreateReq>,
) -> Result<StatusCode, ConnectError> {
    service.client_event(process_id(&headers), &req).await?;
    Ok(StatusCode::NO_CONTENT)
}
