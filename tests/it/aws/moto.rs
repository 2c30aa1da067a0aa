//! AWS for tests: moto's server on a free loopback port (or the endpoint in
//! `RECKON_TEST_AWS_ENDPOINT`), or real AWS with `RECKON_TEST_AWS_REAL=1` and the SDK's
//! usual credentials. Each test makes its own uniquely named queues.

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

use reckon::aws::AwsConfig;

pub struct Aws {
    /// `None` on real AWS.
    pub endpoint: Option<String>,
    moto: Option<Child>,
}

impl Drop for Aws {
    fn drop(&mut self) {
        if let Some(child) = &mut self.moto {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// moto's fixed test credentials in the environment, where the SDK's default chain reads
/// them: Reckon's own code (`reckon::open_store`, `SyncParts::build`, the worker) builds
/// its AWS clients that way. All tests share one process and run on parallel threads, so
/// this is set once, the first time a test starts moto or points at it, and never changed
/// or removed afterwards; the harness's own clients pass these credentials explicitly.
/// Not on real AWS, where the default chain finds the real credentials.
pub fn sdk_default_chain_credentials() {
    static SET: Once = Once::new();
    SET.call_once(|| {
        std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    });
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Aws {
    pub fn start() -> Aws {
        if std::env::var("RECKON_TEST_AWS_REAL").is_ok_and(|v| v == "1") {
            return Aws {
                endpoint: None,
                moto: None,
            };
        }
        sdk_default_chain_credentials();
        if let Ok(url) = std::env::var("RECKON_TEST_AWS_ENDPOINT") {
            return Aws {
                endpoint: Some(url),
                moto: None,
            };
        }
        let port = free_port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "moto_server is not installed: pip install 'moto[server]' (scripts/test.sh does)",
            );
        let aws = Aws {
            endpoint: Some(format!("http://127.0.0.1:{port}")),
            moto: Some(child),
        };
        // Readiness, not timing: wait until moto accepts connections.
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "moto did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        aws
    }

    pub fn config(&self) -> AwsConfig {
        AwsConfig {
            region: Some(std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into())),
            endpoint_url: self.endpoint.clone(),
        }
    }

    /// The SDK config Reckon would build, with moto's fixed test credentials.
    pub async fn sdk(&self) -> aws_config::SdkConfig {
        let loader = reckon::aws::loader(&self.config());
        match &self.endpoint {
            Some(_) => {
                loader
                    .credentials_provider(aws_sdk_sqs::config::Credentials::new(
                        "testing", "testing", None, None, "moto",
                    ))
                    .load()
                    .await
            }
            None => loader.load().await,
        }
    }

    pub async fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.sdk().await)
    }

    /// A fresh main queue and dead-letter queue, wired as the Terraform wires them.
    pub async fn queues(&self, max_receive_count: u32) -> (String, String) {
        let sqs = self.sqs().await;
        let name = format!("reckon-test-{:08x}", rand::random::<u32>());
        let dlq = sqs
            .create_queue()
            .queue_name(format!("{name}-dlq"))
            .send()
            .await
            .expect("create the dead-letter queue")
            .queue_url
            .unwrap();
        let arn = sqs
            .get_queue_attributes()
            .queue_url(&dlq)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .unwrap()
            .attributes
            .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
            .clone();
        let redrive =
            serde_json::json!({"deadLetterTargetArn": arn, "maxReceiveCount": max_receive_count});
        let main = sqs
            .create_queue()
            .queue_name(&name)
            .attributes(
                aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy,
                redrive.to_string(),
            )
            .send()
            .await
            .expect("create the queue")
            .queue_url
            .unwrap();
        (main, dlq)
    }

    /// Bodies of the messages now visible in `url`, left in place (visible again).
    pub async fn peek(&self, url: &str) -> Vec<String> {
        let sqs = self.sqs().await;
        let out = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .visibility_timeout(0)
            .send()
            .await
            .unwrap();
        out.messages()
            .iter()
            .filter_map(|m| m.body().map(str::to_owned))
            .collect()
    }
}

/// moto 5 answers ECS tasks with `containers[].cpu` and `.memory` as JSON numbers, where
/// ECS sends strings, and the official SDK refuses the whole answer. This loopback proxy
/// in front of moto turns those two fields into strings and changes nothing else, so
/// Reckon's ECS launcher can run against the cluster Terraform created on moto.
pub async fn ecs_string_fix(endpoint: &str) -> String {
    use axum::body::Bytes;
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::IntoResponse;

    fn stringify(task: &mut serde_json::Value) {
        for container in task["containers"].as_array_mut().into_iter().flatten() {
            for field in ["cpu", "memory", "memoryReservation"] {
                if let Some(n) = container.get(field).filter(|v| v.is_number()).cloned() {
                    container[field] = serde_json::Value::String(n.to_string());
                }
            }
        }
    }

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let target = endpoint.to_owned();
    let client = reqwest::Client::new();
    let app = axum::Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
        let (client, target) = (client.clone(), target.clone());
        async move {
            let mut request = client.post(&target).body(body);
            for (name, value) in &headers {
                if name != "host" && name != "content-length" {
                    request = request.header(name.as_str(), value.as_bytes());
                }
            }
            let answer = request.send().await.unwrap();
            let status = StatusCode::from_u16(answer.status().as_u16()).unwrap();
            let kind = answer.headers().get("content-type").cloned();
            let bytes = answer.bytes().await.unwrap();
            let body = match serde_json::from_slice::<serde_json::Value>(&bytes) {
                Ok(mut json) => {
                    for task in json["tasks"].as_array_mut().into_iter().flatten() {
                        stringify(task);
                    }
                    if json.get("task").is_some() {
                        stringify(&mut json["task"]);
                    }
                    json.to_string().into_bytes()
                }
                Err(_) => bytes.to_vec(),
            };
            let mut response = (status, body).into_response();
            if let Some(kind) = kind {
                response.headers_mut().insert("content-type", kind);
            }
            response
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}
