//! Backend API handlers (`/v2/…`, HTTP Basic already checked by the layer).

use axum::extract::{Path, RawQuery, State};
use axum::Json;

use super::{ok_generic, parse_list_query, ApiJson};
use crate::connect::api::{
    ConnectToken, ConnectTokenCreateReq, ConnectTokenList, ConnectTokenUpdateReq, CredentialList,
    EventList, GenericRsp, IdentifierList, VerifySignedDataReq, VerifySignedDataRsp,
};
use crate::connect::service::{ConnectError, ConnectService};

type ApiResult<T> = Result<Json<T>, ConnectError>;

pub(super) async fn create_connect_token(
    State(service): State<ConnectService>,
    ApiJson(req): ApiJson<ConnectTokenCreateReq>,
) -> ApiResult<ConnectToken> {
    service.create_connect_token(&req).await.map(Json)
}

pub(super) async fn list_connect_tokens(
    State(service): State<ConnectService>,
    RawQuery(query): RawQuery,
) -> ApiResult<ConnectTokenList> {
    let query = parse_list_query(query.as_deref())?;
    service.list_connect_tokens(&query).await.map(Json)
}

pub(super) async fn patch_connect_token(
    State(service): State<ConnectService>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ConnectTokenUpdateReq>,
) -> ApiResult<GenericRsp> {
    service.set_connect_token_status(&id, req.status).await?;
    Ok(ok_generic())
}

pub(super) async fn delete_connect_token(
    State(service): State<ConnectService>,
    Path(id): Path<String>,
) -> ApiResult<GenericRsp> {
    service.delete_connect_token(&id).await?;
    Ok(ok_generic())
}

pub(super) async fn verify_signed_data(
    State(service): State<ConnectService>,
    ApiJson(req): ApiJson<VerifySignedDataReq>,
) -> ApiResult<VerifySignedDataRsp> {
    let verification_result = service.verify_signed_data(&req).await?;
    Ok(Json(VerifySignedDataRsp {
        verification_result,
    }))
}

pub(super) async fn list_events(
    State(service): State<ConnectService>,
    RawQuery(query): RawQuery,
) -> ApiResult<EventList> {
    service.list_events(query.as_deref()).await.map(Json)
}

pub(super) async fn list_identifiers(
    State(service): State<ConnectService>,
    RawQuery(query): RawQuery,
) -> ApiResult<IdentifierList> {
    let query = parse_list_query(query.as_deref())?;
    service.list_identifiers(&query).await.map(Json)
}

pub(super) async fn list_user_credentials(
    State(service): State<ConnectService>,
    Path(user_id): Path<String>,
) -> ApiResult<CredentialList> {
    service.list_user_credentials(&user_id).await.map(Json)
}

pub(super) async fn delete_user_credential(
    State(service): State<ConnectService>,
    Path((user_id, credential_id)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
) -> ApiResult<GenericRsp> {
    // Latchkey's own extension: the operator who asked, for the audit log (bounded, printable).
    let actor = headers
        .get(crate::connect::api::paths::backend::ACTOR_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|actor| actor.len() <= 64 && actor.chars().all(|c| c.is_ascii_graphic()));
    service
        .delete_user_credential(&user_id, &credential_id, actor)
        .await?;
    Ok(ok_generic())
}
