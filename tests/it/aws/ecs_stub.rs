//! A small ECS stand-in for the exit-code contract, which moto cannot test (its tasks
//! always exit 0). It speaks ECS's JSON 1.1 protocol for RunTask, DescribeTasks and
//! StopTask, rejects what ECS rejects for those calls, and plays a script of outcomes.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

pub const CLUSTER: &str = "reckon";
pub const CONTAINER: &str = "reckon-job";

/// What the next started task does.
#[derive(Debug, Clone)]
pub enum Script {
    /// Runs for one poll, then stops with this exit code.
    Exit(i32),
    /// Stops without an exit code (e.g. the image could not be pulled).
    NoExit(&'static str),
    /// RunTask answers with a failure and no task (e.g. no capacity).
    FailToStart(&'static str),
    /// Runs until StopTask.
    NeverStops,
}

#[derive(Debug, Clone)]
pub struct Started {
    pub arn: String,
    pub client_token: String,
    pub spec: Option<String>,
    pub subnets: Vec<String>,
}

#[derive(Default)]
struct State {
    script: VecDeque<Script>,
    tasks: HashMap<String, (Script, u32, bool)>,
    by_token: HashMap<String, String>,
    started: Vec<Started>,
    stopped: Vec<String>,
}

#[derive(Clone, Default)]
pub struct EcsStub {
    state: Arc<Mutex<State>>,
    pub url: String,
}

fn reply(status: StatusCode, body: Value) -> Response {
    (
        status,
        [("content-type", "application/x-amz-json-1.1")],
        body.to_string(),
    )
        .into_response()
}

fn reject(kind: &str, message: &str) -> Response {
    reply(
        StatusCode::BAD_REQUEST,
        json!({"__type": kind, "message": message}),
    )
}

impl EcsStub {
    pub async fn start(script: Vec<Script>) -> EcsStub {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut stub = EcsStub {
            url: format!("http://{}", listener.local_addr().unwrap()),
            ..EcsStub::default()
        };
        stub.state.lock().unwrap().script = script.into();
        let handler_stub = stub.clone();
        let app = axum::Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
            let stub = handler_stub.clone();
            async move { stub.handle(&headers, &body) }
        });
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        stub.url = stub.url.clone();
        stub
    }

    pub fn started(&self) -> Vec<Started> {
        self.state.lock().unwrap().started.clone()
    }

    pub fn stopped(&self) -> Vec<String> {
        self.state.lock().unwrap().stopped.clone()
    }

    fn handle(&self, headers: &HeaderMap, body: &[u8]) -> Response {
        let target = headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let Ok(body) = serde_json::from_slice::<Value>(body) else {
            return reject("SerializationException", "body is not JSON");
        };
        if body["cluster"]
            .as_str()
            .is_some_and(|c| c != CLUSTER && !c.ends_with(&format!("/{CLUSTER}")))
        {
            return reject("ClusterNotFoundException", "Cluster not found.");
        }
        match target.rsplit('.').next().unwrap_or_default() {
            "RunTask" => self.run_task(&body),
            "DescribeTasks" => self.describe(&body),
            "StopTask" => self.stop(&body),
            other => reject(
                "UnknownOperationException",
                &format!("{other} is not served here"),
            ),
        }
    }

    fn run_task(&self, body: &Value) -> Response {
        let token = body["clientToken"].as_str().unwrap_or_default().to_owned();
        if token.len() > 64 {
            return reject(
                "InvalidParameterException",
                "clientToken must be at most 64 characters",
            );
        }
        let subnets: Vec<String> = body["networkConfiguration"]["awsvpcConfiguration"]["subnets"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        if body["launchType"] == "FARGATE" && subnets.is_empty() {
            return reject(
                "InvalidParameterException",
                "Network Configuration must be provided when networkMode 'awsvpc' is specified.",
            );
        }
        let overrides = body["overrides"]["containerOverrides"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if overrides.iter().any(|o| o["name"] != CONTAINER) {
            return reject("InvalidParameterException", "Override for container named other does not match a container in the task definition.");
        }
        let spec = overrides
            .iter()
            .flat_map(|o| o["environment"].as_array().cloned().unwrap_or_default())
            .find(|kv| kv["name"] == "RECKON_JOB_SPEC")
            .and_then(|kv| kv["value"].as_str().map(str::to_owned));
        let mut state = self.state.lock().unwrap();
        // The same token within the idempotency window returns the same task.
        if let Some(arn) = state.by_token.get(&token).cloned() {
            return reply(
                StatusCode::OK,
                json!({"tasks": [{"taskArn": arn, "lastStatus": "PROVISIONING"}], "failures": []}),
            );
        }
        let script = state.script.pop_front().unwrap_or(Script::Exit(0));
        if let Script::FailToStart(reason) = script {
            return reply(
                StatusCode::OK,
                json!({"tasks": [], "failures": [{"reason": reason}]}),
            );
        }
        let arn = format!(
            "arn:aws:ecs:us-east-1:123456789012:task/{CLUSTER}/{:032x}",
            rand::random::<u128>()
        );
        state.by_token.insert(token.clone(), arn.clone());
        state.tasks.insert(arn.clone(), (script, 0, false));
        state.started.push(Started {
            arn: arn.clone(),
            client_token: token,
            spec,
            subnets,
        });
        reply(
            StatusCode::OK,
            json!({"tasks": [{"taskArn": arn, "lastStatus": "PROVISIONING"}], "failures": []}),
        )
    }

    fn describe(&self, body: &Value) -> Response {
        let mut state = self.state.lock().unwrap();
        let mut tasks = Vec::new();
        let mut failures = Vec::new();
        for arn in body["tasks"].as_array().cloned().unwrap_or_default() {
            let arn = arn.as_str().unwrap_or_default().to_owned();
            let Some((script, polls, stopped)) = state.tasks.get_mut(&arn) else {
                failures.push(json!({"arn": arn, "reason": "MISSING"}));
                continue;
            };
            *polls += 1;
            let task = match (&*script, *stopped, *polls) {
                (_, true, _) => {
                    json!({"taskArn": arn, "lastStatus": "STOPPED", "stoppedReason": "Task stopped by user",
                    "containers": [{"name": CONTAINER, "exitCode": 143}]})
                }
                (_, false, 1) | (Script::NeverStops, false, _) => {
                    json!({"taskArn": arn, "lastStatus": "RUNNING",
                    "containers": [{"name": CONTAINER}]})
                }
                (Script::Exit(code), false, _) => json!({"taskArn": arn, "lastStatus": "STOPPED",
                    "stoppedReason": "Essential container in task exited",
                    "containers": [{"name": CONTAINER, "exitCode": code}]}),
                (Script::NoExit(reason), false, _) => {
                    json!({"taskArn": arn, "lastStatus": "STOPPED",
                    "stoppedReason": "Task failed to start",
                    "containers": [{"name": CONTAINER, "reason": reason}]})
                }
                (Script::FailToStart(_), false, _) => unreachable!("never started"),
            };
            tasks.push(task);
        }
        reply(
            StatusCode::OK,
            json!({"tasks": tasks, "failures": failures}),
        )
    }

    fn stop(&self, body: &Value) -> Response {
        let arn = body["task"].as_str().unwrap_or_default().to_owned();
        let mut state = self.state.lock().unwrap();
        let Some(task) = state.tasks.get_mut(&arn) else {
            return reject(
                "InvalidParameterException",
                "The referenced task was not found.",
            );
        };
        task.2 = true;
        state.stopped.push(arn.clone());
        reply(
            StatusCode::OK,
            json!({"task": {"taskArn": arn, "lastStatus": "RUNNING", "desiredStatus": "STOPPED"}}),
        )
    }
}
