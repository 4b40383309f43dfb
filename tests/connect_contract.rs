//! The `ConnectBackend` contract: the same suite against the in-process implementation and
//! the HTTP one (reqwest against a real server on 127.0.0.1), on SQLite and PostgreSQL. Both
//! must answer the same values and the same errors.

mod support;

use latchkey::connect::api::paths::frontend;
use latchkey::connect::api::{
    ConnectTokenCreateReq, ConnectTokenData, ConnectTokenStatus, ConnectTokenType, ErrorType,
    ListQuery, VerificationResult,
};
use latchkey::connect::backend_client::BackendError;
use serde_json::json;
use support::{client_info, Db, TestPasskey, TestService, Transport};

fn request(
    kind: ConnectTokenType,
    identifier: &str,
    display: Option<&str>,
) -> ConnectTokenCreateReq {
    ConnectTokenCreateReq {
        token_type: kind,
        data: ConnectTokenData {
            identifier: identifier.into(),
            display_name: display.map(str::to_string),
        },
        max_lifetime_in_seconds: None,
    }
}

fn validation(message: &str) -> BackendError {
    BackendError::Api {
        status: 400,
        error_type: "validation_error".into(),
        message: message.into(),
    }
}

async fn connect_tokens(db: Db, transport: Transport) {
    let svc = TestService::start_with(db, transport, |_| {}).await;
    let backend = svc.backend.as_ref();
    let now = svc.service.clock().now();

    let token = backend
        .create_connect_token(&request(
            ConnectTokenType::PasskeyAppend,
            "acc_1",
            Some("a@b.c"),
        ))
        .await
        .unwrap();
    assert!(token.id.starts_with("ctk-"));
    assert!(token.secret.as_deref().unwrap().starts_with("ctk1_"));
    assert_eq!(token.connect_token_status, ConnectTokenStatus::Initial);
    assert_eq!(token.data.display_name.as_deref(), Some("a@b.c"));
    assert!(
        (now + 299..=now + 301).contains(&token.expires),
        "default lifetime 300 s"
    );

    let mut short = request(ConnectTokenType::PasskeyList, "acc_1", None);
    short.max_lifetime_in_seconds = Some(10);
    let short = backend.create_connect_token(&short).await.unwrap();
    assert!(short.expires <= now + 11);
    assert_eq!(short.data.display_name, None);
    let mut long = request(ConnectTokenType::PasskeyDelete, "acc_2", None);
    long.max_lifetime_in_seconds = Some(10 * 24 * 3600);
    let long = backend.create_connect_token(&long).await.unwrap();
    assert!(
        long.expires <= now + 3601,
        "capped by connect-token-max-lifetime-seconds"
    );

    // Errors are the same values through both implementations.
    let err = backend
        .create_connect_token(&request(ConnectTokenType::PasskeyAppend, "acc_1", None))
        .await
        .unwrap_err();
    assert_eq!(err, validation("is required for passkey-append"));
    let err = backend
        .create_connect_token(&request(ConnectTokenType::PasskeyLogin, " ", None))
        .await
        .unwrap_err();
    assert_eq!(err, validation("must not be empty"));

    // Lists: filters, paging, sort; secrets never listed.
    let all = backend
        .list_connect_tokens(&ListQuery::default())
        .await
        .unwrap();
    assert_eq!(all.paging.total_items, 3);
    assert!(all.connect_tokens.iter().all(|t| t.secret.is_none()));
    let appends = backend
        .list_connect_tokens(&ListQuery {
            filters: vec!["tokenType:eq:passkey-append".into()],
            ..ListQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(appends.connect_tokens.len(), 1);
    assert_eq!(appends.connect_tokens[0].id, token.id);
    let page = backend
        .list_connect_tokens(&ListQuery {
            sort: Some("expires:asc".into()),
            page: Some(2),
            page_size: Some(1),
            ..ListQuery::default()
        })
        .await
        .unwrap();
    assert_eq!((page.paging.page, page.paging.total_pages), (2, 3));
    assert_eq!(page.connect_tokens[0].id, token.id, "sorted by expiry");
    let err = backend
        .list_connect_tokens(&ListQuery {
            filters: vec!["secret:eq:x".into()],
            ..ListQuery::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), Some(ErrorType::ValidationError));

    // Status: a consumed token cannot be spent; set back to initial, it can.
    backend
        .set_connect_token_status(&short.id, ConnectTokenStatus::Consumed)
        .await
        .unwrap();
    let consumed = backend
        .list_connect_tokens(&ListQuery {
            filters: vec!["status:eq:consumed".into()],
            ..ListQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(consumed.connect_tokens[0].id, short.id);
    let (process, _) = svc.init("manage", &client_info(None)).await;
    let body = json!({ "connectToken": short.secret });
    let spent = svc
        .front
        .post(frontend::MANAGE_LIST, Some(&process), &body)
        .await;
    assert_eq!(spent.status, 400);
    backend
        .set_connect_token_status(&short.id, ConnectTokenStatus::Initial)
        .await
        .unwrap();
    svc.front
        .post(frontend::MANAGE_LIST, Some(&process), &body)
        .await
        .ok();

    // Delete; unknown ids are not found.
    backend.delete_connect_token(&long.id).await.unwrap();
    assert!(backend
        .delete_connect_token(&long.id)
        .await
        .unwrap_err()
        .is_not_found());
    assert!(backend
        .set_connect_token_status("ctk-0", ConnectTokenStatus::Consumed)
        .await
        .unwrap_err()
        .is_not_found());
}

async fn signed_data(db: Db, transport: Transport) {
    let svc = TestService::start_with(db, transport, |_| {}).await;
    let mut auth = TestPasskey::new();
    svc.append(&mut auth, "acc_v", &client_info(None))
        .await
        .ok();
    let signed = svc.signed_data(&mut auth, "acc_v").await;
    let backend = svc.backend.as_ref();
    assert_eq!(
        backend.verify_signed_data(&signed, "acc_w").await.unwrap(),
        VerificationResult::UserMismatch
    );
    let signed = svc.signed_data(&mut auth, "acc_v").await;
    assert_eq!(
        backend.verify_signed_data(&signed, "acc_v").await.unwrap(),
        VerificationResult::Success
    );
    assert_eq!(
        backend.verify_signed_data(&signed, "acc_v").await.unwrap(),
        VerificationResult::InvalidChallenge
    );
    assert_eq!(
        backend
            .verify_signed_data("eyJhbGciOiJub25lIn0.e30.", "acc_v")
            .await
            .unwrap(),
        VerificationResult::InvalidSignature
    );
}

async fn users_and_credentials(db: Db, transport: Transport) {
    let svc = TestService::start_with(db, transport, |_| {}).await;
    let backend = svc.backend.as_ref();
    assert_eq!(backend.find_user_id("acc_c").await.unwrap(), None);
    let err = backend.list_credentials("usr-0").await.unwrap_err();
    assert_eq!(
        err,
        BackendError::Api {
            status: 404,
            error_type: "not_found".into(),
            message: "user not found".into(),
        }
    );
    let mut auth = TestPasskey::new();
    svc.append(&mut auth, "acc_c", &client_info(None))
        .await
        .ok();
    svc.append(&mut auth, "acc_c", &client_info(None))
        .await
        .ok();
    let user = backend.find_user_id("acc_c").await.unwrap().unwrap();
    let credentials = backend.list_credentials(&user).await.unwrap();
    assert_eq!(credentials.len(), 2);
    assert!(credentials[0].created_ms <= credentials[1].created_ms);
    assert!(credentials
        .iter()
        .all(|c| c.status == "active" && !c.backup_state));
    // Delete by `cre-…` id or by credential id; a second delete is not found.
    backend
        .delete_credential(&user, &credentials[0].id, None)
        .await
        .unwrap();
    // Latchkey's extension: the operator who asked is recorded with the event, over HTTP too.
    backend
        .delete_credential(&user, &credentials[1].credential_id, Some("acc_operator"))
        .await
        .unwrap();
    let deleted = svc
        .events(latchkey::events::EventType::PasskeyDeleted, None)
        .await;
    assert_eq!(deleted[0].event.actor.as_deref(), Some("acc_operator"));
    assert_eq!(deleted[1].event.actor, None);
    assert!(backend
        .delete_credential(&user, &credentials[1].credential_id, None)
        .await
        .unwrap_err()
        .is_not_found());
    assert!(backend.list_credentials(&user).await.unwrap().is_empty());
    // A user cannot delete another user's passkey through the backend either.
    svc.append(&mut auth, "acc_d", &client_info(None))
        .await
        .ok();
    let other = backend.find_user_id("acc_d").await.unwrap().unwrap();
    let theirs = backend.list_credentials(&other).await.unwrap()[0]
        .id
        .clone();
    assert!(backend
        .delete_credential(&user, &theirs, None)
        .await
        .unwrap_err()
        .is_not_found());
    assert_eq!(backend.list_credentials(&other).await.unwrap().len(), 1);
}

on_both_databases!(
    and_both_transports: connect_tokens,
    signed_data,
    users_and_credentials
);
