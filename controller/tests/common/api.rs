//! `spawn_app()`: the real controller (store, CA, gateway and enrollment listeners from
//! [`super::agents`]) plus its console/API listener on `127.0.0.1:0`, with an API token
//! for each role.

use std::net::SocketAddr;

use corral_controller::domain::{
    AdminUser, ApiToken, Password, PasswordHash, Role, Timestamp, UserName,
};
use corral_controller::serve::serve_console;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::agents::{Controller, spawn_controller};
use super::http::{Response, request};

/// A running controller with its REST API.
pub struct App {
    pub ctl: Controller,
    pub addr: SocketAddr,
    pub admin: String,
    pub technician: String,
    pub auditor: String,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for App {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn token_for(ctl: &Controller, user: &AdminUser) -> String {
    let token = ApiToken::generate();
    ctl.state
        .store
        .create_api_token(user, &token, "test", None, Timestamp::now())
        .await
        .unwrap();
    token.reveal()
}

async fn user(ctl: &Controller, name: &str, role: Role) -> AdminUser {
    let hash = PasswordHash::create(&Password::generate()).unwrap();
    ctl.state
        .store
        .create_user(
            &UserName::parse(name).unwrap(),
            role,
            &hash,
            "test",
            Timestamp::now(),
        )
        .await
        .unwrap()
}

pub async fn spawn_app() -> App {
    let ctl = spawn_controller().await;
    let admin = ctl.state.store.first_admin().await.unwrap();
    let admin = token_for(&ctl, &admin).await;
    let technician = token_for(&ctl, &user(&ctl, "tech", Role::Technician).await).await;
    let auditor = token_for(&ctl, &user(&ctl, "audit", Role::Auditor).await).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let state = ctl.state.clone();
    tokio::spawn(async move {
        serve_console(listener, state, async move {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    App {
        ctl,
        addr,
        admin,
        technician,
        auditor,
        stop: Some(stop),
    }
}

impl App {
    /// `METHOD /api/v1{path}` as `token`, with an optional JSON body.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> Response {
        request(
            self.addr,
            method,
            &format!("/api/v1{path}"),
            Some(token),
            body,
        )
        .await
    }

    pub async fn get(&self, path: &str) -> Response {
        self.call("GET", path, &self.admin.clone(), None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.call("POST", path, &self.admin.clone(), Some(body))
            .await
    }

    /// Uploads `files` (name, text) as admin and expects 201.
    pub async fn upload(&self, files: &[(&str, &str)]) -> Value {
        let response = self.post("/profiles", &files_body(files)).await;
        assert_eq!(response.status, 201, "{}", response.body);
        response.json()
    }
}

/// `{"files": [{"name", "text"}, …]}`.
pub fn files_body(files: &[(&str, &str)]) -> Value {
    Value::Object(
        [(
            "files".to_owned(),
            files
                .iter()
                .map(|(name, text)| serde_json::json!({ "name": name, "text": text }))
                .collect(),
        )]
        .into_iter()
        .collect(),
    )
}
