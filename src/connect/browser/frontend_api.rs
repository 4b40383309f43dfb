//! The browser's client of the passkey service's frontend API (`/v2/connect/…`).
//!
//! Every component starts a process with an `init` call; the process id then travels in
//! `X-Corbado-Process-ID` on each later call, as with Corbado's own SDK. On the server this
//! client is inert: components only call it after hydration.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::connect::api::paths::frontend;
use crate::connect::api::{
    AppendFinishReq, AppendFinishRsp, AppendInitRsp, AppendStartReq, AppendStartRsp, ErrorRsp,
    EventCreateReq, InitReq, LoginFinishReq, LoginFinishRsp, LoginInitRsp, LoginStartReq,
    LoginStartRsp, ManageDeleteReq, ManageDeleteRsp, ManageInitRsp, ManageListReq, ManageListRsp,
    ManageRenameReq, ManageRenameRsp,
};

/// Why a frontend-API call failed; every variant leads the UI to its fallback.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// Not in a browser (server-side render).
    Unavailable,
    /// The request did not complete (network down, blocked, aborted).
    Network(String),
    /// The service answered with an error body.
    Service {
        status: u16,
        error: Option<ErrorRsp>,
    },
    /// The service answered something that is not the expected JSON.
    Decode(String),
}

impl ApiError {
    /// The service's error type (`not_found`, `validation_error`, …), if it sent one.
    pub fn error_type(&self) -> Option<&str> {
        match self {
            Self::Service {
                error: Some(error), ..
            } => Some(error.error.error_type.as_str()),
            _ => None,
        }
    }

    /// The service's message, if it sent an error body.
    pub fn message(&self) -> Option<String> {
        match self {
            Self::Service {
                error: Some(error), ..
            } => Some(error.message.clone()),
            _ => None,
        }
    }

    /// A true boolean in the error body's `data` under `key`.
    pub fn data_flag(&self, key: &str) -> bool {
        match self {
            Self::Service {
                error: Some(error), ..
            } => error
                .data
                .as_ref()
                .and_then(|data| data.get(key))
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(false),
            _ => false,
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unavailable => f.write_str("the passkey service is not reachable from here"),
            Self::Network(reason) => {
                write!(f, "the passkey service could not be reached: {reason}")
            }
            Self::Service { status, error } => match error {
                Some(error) => write!(
                    f,
                    "the passkey service refused ({status}): {}",
                    error.message
                ),
                None => write!(f, "the passkey service answered {status}"),
            },
            Self::Decode(reason) => {
                write!(f, "unexpected answer from the passkey service: {reason}")
            }
        }
    }
}

/// One component's conversation with the service.
#[derive(Debug, Clone, Default)]
pub struct FrontendApi {
    base: String,
    process_id: Option<String>,
}

impl FrontendApi {
    /// `base` is the service's frontend URL ("" = this origin).
    pub fn new(base: impl Into<String>) -> Self {
        Self {
            base: base.into().trim_end_matches('/').to_string(),
            process_id: None,
        }
    }

    pub fn process_id(&self) -> Option<&str> {
        self.process_id.as_deref()
    }

    /// Adopts the service's own base URL from an init answer (same origin in-process).
    fn adopt(&mut self, process_id: &str, frontend_api_url: &str) {
        self.process_id = Some(process_id.to_string());
        if !frontend_api_url.is_empty() {
            self.base = frontend_api_url.trim_end_matches('/').to_string();
        }
    }

    pub async fn login_init(&mut self, req: &InitReq) -> Result<LoginInitRsp, ApiError> {
        let rsp: LoginInitRsp = self.post(frontend::LOGIN_INIT, req).await?;
        self.adopt(&rsp.token, &rsp.frontend_api_url);
        Ok(rsp)
    }

    pub async fn login_start(&self, req: &LoginStartReq) -> Result<LoginStartRsp, ApiError> {
        self.post(frontend::LOGIN_START, req).await
    }

    pub async fn login_finish(&self, req: &LoginFinishReq) -> Result<LoginFinishRsp, ApiError> {
        self.post(frontend::LOGIN_FINISH, req).await
    }

    pub async fn append_init(&mut self, req: &InitReq) -> Result<AppendInitRsp, ApiError> {
        let rsp: AppendInitRsp = self.post(frontend::APPEND_INIT, req).await?;
        self.adopt(&rsp.process_id, &rsp.frontend_api_url);
        Ok(rsp)
    }

    pub async fn append_start(&self, req: &AppendStartReq) -> Result<AppendStartRsp, ApiError> {
        self.post(frontend::APPEND_START, req).await
    }

    pub async fn append_finish(&self, req: &AppendFinishReq) -> Result<AppendFinishRsp, ApiError> {
        self.post(frontend::APPEND_FINISH, req).await
    }

    pub async fn manage_init(&mut self, req: &InitReq) -> Result<ManageInitRsp, ApiError> {
        let rsp: ManageInitRsp = self.post(frontend::MANAGE_INIT, req).await?;
        self.adopt(&rsp.process_id, &rsp.frontend_api_url);
        Ok(rsp)
    }

    pub async fn manage_list(&self, req: &ManageListReq) -> Result<ManageListRsp, ApiError> {
        self.post(frontend::MANAGE_LIST, req).await
    }

    pub async fn manage_delete(&self, req: &ManageDeleteReq) -> Result<ManageDeleteRsp, ApiError> {
        self.post(frontend::MANAGE_DELETE, req).await
    }

    pub async fn manage_rename(&self, req: &ManageRenameReq) -> Result<ManageRenameRsp, ApiError> {
        self.post(frontend::MANAGE_RENAME, req).await
    }

    /// `POST /v2/connect/events`: tells the service what happened in the browser (a cancelled
    /// prompt counts towards pausing passkey login here).
    pub async fn report_event(&self, req: &EventCreateReq) -> Result<(), ApiError> {
        self.post(frontend::EVENTS, req).await
    }

    async fn post<Req: Serialize, Rsp: DeserializeOwned>(
        &self,
        path: &str,
        body: &Req,
    ) -> Result<Rsp, ApiError> {
        let url = format!("{}{path}", self.base);
        transport::post_json(&url, self.process_id.as_deref(), body).await
    }
}

#[cfg(feature = "hydrate")]
mod transport {
    use gloo_net::http::Request;
    use serde::de::DeserializeOwned;
    use serde::Serialize;

    use super::ApiError;
    use crate::connect::api::paths::PROCESS_HEADER;
    use crate::connect::api::ErrorRsp;

    pub async fn post_json<Req: Serialize, Rsp: DeserializeOwned>(
        url: &str,
        process_id: Option<&str>,
        body: &Req,
    ) -> Result<Rsp, ApiError> {
        let mut request = Request::post(url);
        if let Some(process_id) = process_id {
            request = request.header(PROCESS_HEADER, process_id);
        }
        let response = request
            .json(body)
            .map_err(|err| ApiError::Decode(err.to_string()))?
            .send()
            .await
            .map_err(|err| ApiError::Network(err.to_string()))?;
        if !response.ok() {
            let status = response.status();
            let error = response.json::<ErrorRsp>().await.ok();
            return Err(ApiError::Service { status, error });
        }
        // "204 No Content" answers `()`.
        if response.status() == 204 {
            return serde_json::from_value(serde_json::Value::Null)
                .map_err(|err| ApiError::Decode(err.to_string()));
        }
        response
            .json::<Rsp>()
            .await
            .map_err(|err| ApiError::Decode(err.to_string()))
    }
}

#[cfg(not(feature = "hydrate"))]
mod transport {
    use serde::de::DeserializeOwned;
    use serde::Serialize;

    use super::ApiError;

    pub async fn post_json<Req: Serialize, Rsp: DeserializeOwned>(
        _url: &str,
        _process_id: Option<&str>,
        _body: &Req,
    ) -> Result<Rsp, ApiError> {
        Err(ApiError::Unavailable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_server_side_is_inert() {
        let mut api = FrontendApi::new("http://localhost:3000/");
        assert_eq!(
            api.login_init(&InitReq::default()).await,
            Err(ApiError::Unavailable)
        );
        assert_eq!(api.process_id(), None);
    }

    #[test]
    fn init_answers_set_the_process_and_base() {
        let mut api = FrontendApi::new("");
        api.adopt("pro-1", "http://localhost:3100/");
        assert_eq!(api.process_id(), Some("pro-1"));
        assert_eq!(api.base, "http://localhost:3100");
        api.adopt("pro-2", "");
        assert_eq!(
            api.base, "http://localhost:3100",
            "an empty URL keeps the base"
        );
    }
}
