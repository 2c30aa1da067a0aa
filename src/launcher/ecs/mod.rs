//! Runs each queued task as an ECS task of the jobs image (RunTask, usually on
//! Fargate), passing its kind as `RECKON_JOB_KIND` and its JSON as `RECKON_JOB_SPEC`,
//! then polls DescribeTasks until it stops and reads the container's exit code: 0
//! done, 75 retryable, 65 permanent.

mod config;

use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, ContainerOverride, KeyValuePair, LaunchType,
    NetworkConfiguration, Task, TaskOverride,
};
use aws_sdk_ecs::Client;

pub use self::config::EcsConfig;
use super::{Attempt, JobLauncher, JobOutcome};
use crate::queue::Task as QueuedTask;

/// The variable the jobs binary reads its spec from.
pub const SPEC_VARIABLE: &str = "RECKON_JOB_SPEC";
/// The variable the jobs binary reads the task's kind from.
pub const KIND_VARIABLE: &str = "RECKON_JOB_KIND";

pub struct EcsLauncher {
    client: Client,
    config: EcsConfig,
}

fn retryable(error: String) -> JobOutcome {
    JobOutcome::Retryable {
        error,
        retry_at: None,
    }
}

/// The idempotency token of one attempt: a retried RunTask with it starts nothing new.
pub fn client_token(attempt: Attempt) -> String {
    format!("reckon-{}-{}", attempt.task, attempt.number)
}

/// How a task ended, or `None` while it has not stopped. A stopped task without an
/// exit code never ran its container (image pull, capacity, a stop): retryable.
pub fn outcome(task: &Task, container: &str) -> Option<JobOutcome> {
    if task.last_status() != Some("STOPPED") {
        return None;
    }
    let arn = task.task_arn().unwrap_or("unknown task");
    let ours = task
        .containers()
        .iter()
        .find(|c| c.name() == Some(container));
    let reason = || {
        let mut why = task
            .stopped_reason()
            .unwrap_or("no reason given")
            .to_owned();
        if let Some(detail) = ours.and_then(|c| c.reason()) {
            why = format!("{why}: {detail}");
        }
        why
    };
    Some(match ours.and_then(|c| c.exit_code()) {
        Some(code) => match JobOutcome::from_exit_code(code, None, None) {
            JobOutcome::Done(report) => JobOutcome::Done(report),
            JobOutcome::Permanent(_) => JobOutcome::Permanent(format!(
                "the job failed permanently (exit 65); its log is in {arn}"
            )),
            JobOutcome::Retryable { .. } => retryable(format!(
                "the job exited {code} ({}); its log is in {arn}",
                if code == super::EXIT_RETRYABLE {
                    "retry later"
                } else {
                    "a crash"
                }
            )),
        },
        None => retryable(format!(
            "the job stopped without an exit code: {}",
            reason()
        )),
    })
}

impl EcsLauncher {
    pub fn new(client: Client, config: EcsConfig) -> EcsLauncher {
        EcsLauncher { client, config }
    }

    fn cluster(&self) -> &str {
        self.config.cluster.as_deref().unwrap_or_default()
    }

    fn network(&self) -> Option<NetworkConfiguration> {
        if self.config.subnets.is_empty() {
            return None;
        }
        let vpc = AwsVpcConfiguration::builder()
            .set_subnets(Some(self.config.subnets.clone()))
            .set_security_groups(Some(self.config.security_groups.clone()))
            .assign_public_ip(if self.config.assign_public_ip {
                AssignPublicIp::Enabled
            } else {
                AssignPublicIp::Disabled
            })
            .build()
            .ok()?;
        Some(
            NetworkConfiguration::builder()
                .awsvpc_configuration(vpc)
                .build(),
        )
    }

    /// Starts the task; its ARN, or the outcome when it could not start.
    async fn start(&self, task: &QueuedTask, attempt: Attempt) -> Result<String, JobOutcome> {
        let overrides = TaskOverride::builder()
            .container_overrides(
                ContainerOverride::builder()
                    .name(&self.config.container)
                    .environment(
                        KeyValuePair::builder()
                            .name(SPEC_VARIABLE)
                            .value(task.canonical_json())
                            .build(),
                    )
                    .environment(
                        KeyValuePair::builder()
                            .name(KIND_VARIABLE)
                            .value(&task.kind)
                            .build(),
                    )
                    .build(),
            )
            .build();
        let started = self
            .client
            .run_task()
            .cluster(self.cluster())
            .set_task_definition(self.config.task_definition.clone())
            .launch_type(LaunchType::from(self.config.launch_type.as_str()))
            .count(1)
            .client_token(client_token(attempt))
            .started_by("reckon")
            .set_network_configuration(self.network())
            .overrides(overrides)
            .send()
            .await
            .map_err(|e| retryable(format!("RunTask failed: {}", crate::aws::error_line(&e))))?;
        if let Some(failure) = started.failures().first() {
            return Err(retryable(format!(
                "the job did not start: {}{}",
                failure.reason().unwrap_or("unknown reason"),
                failure
                    .detail()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            )));
        }
        started
            .tasks()
            .first()
            .and_then(|t| t.task_arn())
            .map(str::to_owned)
            .ok_or_else(|| retryable("RunTask answered without a task".into()))
    }

    /// Stops a task that ran past its deadline. Failing to stop it is logged: the
    /// queue retries the work either way.
    async fn stop(&self, arn: &str) {
        let reason = format!(
            "reckon: deadline of {} s exceeded",
            self.config.deadline_seconds
        );
        if let Err(e) = self
            .client
            .stop_task()
            .cluster(self.cluster())
            .task(arn)
            .reason(reason)
            .send()
            .await
        {
            tracing::warn!(task_arn = arn, error = %crate::aws::error_line(&e), "cannot stop the job that ran past its deadline");
        }
    }

    /// Polls the task until it stops or its deadline passes.
    async fn wait(&self, arn: &str) -> JobOutcome {
        let started = Instant::now();
        let deadline = Duration::from_secs(self.config.deadline_seconds);
        let poll = Duration::from_millis(self.config.poll_interval_ms);
        let mut failed_polls = 0;
        loop {
            if started.elapsed() >= deadline {
                self.stop(arn).await;
                return retryable(format!(
                    "the job ran past its deadline of {} s and was stopped ({arn})",
                    self.config.deadline_seconds
                ));
            }
            match self
                .client
                .describe_tasks()
                .cluster(self.cluster())
                .tasks(arn)
                .send()
                .await
            {
                Ok(out) => {
                    failed_polls = 0;
                    if let Some(task) = out.tasks().iter().find(|t| t.task_arn() == Some(arn)) {
                        if let Some(outcome) = outcome(task, &self.config.container) {
                            return outcome;
                        }
                    } else if let Some(failure) = out.failures().first() {
                        return retryable(format!(
                            "ECS lost the job {arn}: {}",
                            failure.reason().unwrap_or("unknown reason")
                        ));
                    }
                }
                Err(e) => {
                    failed_polls += 1;
                    tracing::warn!(task_arn = arn, error = %crate::aws::error_line(&e), "cannot read the job's state; polling again");
                    if failed_polls >= 10 {
                        return retryable(format!(
                            "lost track of the job {arn}: {}",
                            crate::aws::error_line(&e)
                        ));
                    }
                }
            }
            tokio::time::sleep(poll).await;
        }
    }
}

#[async_trait]
impl JobLauncher for EcsLauncher {
    async fn launch(&self, task: &QueuedTask, attempt: Attempt) -> JobOutcome {
        let arn = match self.start(task, attempt).await {
            Ok(arn) => arn,
            Err(outcome) => return outcome,
        };
        tracing::info!(task_arn = %arn, kind = %task.kind, "job started on ecs");
        self.wait(&arn).await
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_ecs::types::Container;

    use super::*;

    fn stopped(code: Option<i32>) -> Task {
        Task::builder()
            .task_arn("arn:aws:ecs:us-east-1:123456789012:task/reckon/abc")
            .last_status("STOPPED")
            .stopped_reason("Essential container in task exited")
            .containers(
                Container::builder()
                    .name("reckon-job")
                    .set_exit_code(code)
                    .build(),
            )
            .build()
    }

    #[test]
    fn exit_codes_map_to_outcomes() {
        assert!(matches!(
            outcome(&stopped(Some(0)), "reckon-job"),
            Some(JobOutcome::Done(_))
        ));
        assert!(matches!(
            outcome(&stopped(Some(65)), "reckon-job"),
            Some(JobOutcome::Permanent(_))
        ));
        for code in [75, 1, 137] {
            assert!(matches!(
                outcome(&stopped(Some(code)), "reckon-job"),
                Some(JobOutcome::Retryable { .. })
            ));
        }
    }

    #[test]
    fn a_stop_without_exit_code_is_retryable() {
        let Some(JobOutcome::Retryable { error, .. }) = outcome(&stopped(None), "reckon-job")
        else {
            panic!("expected retryable");
        };
        assert!(error.contains("without an exit code"), "{error}");
        // Another container's exit code is not ours.
        assert!(matches!(
            outcome(&stopped(Some(0)), "other"),
            Some(JobOutcome::Retryable { .. })
        ));
    }

    #[test]
    fn running_tasks_have_no_outcome() {
        let running = Task::builder().last_status("RUNNING").build();
        assert!(outcome(&running, "reckon-job").is_none());
    }

    #[test]
    fn tokens_name_task_and_attempt() {
        let token = client_token(Attempt {
            task: 42,
            number: 3,
        });
        assert_eq!(token, "reckon-42-3");
        assert!(token.len() <= 64);
    }
}
