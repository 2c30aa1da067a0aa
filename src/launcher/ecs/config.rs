//! `[ecs]`: how `worker.launcher = "ecs"` starts the jobs image with ECS RunTask. The
//! cluster, task definition and network come from the Terraform in `terraform/`.

use serde::Deserialize;

use crate::config::ConfigError;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EcsConfig {
    /// Cluster name or ARN (RECKON_ECS_CLUSTER).
    #[serde(default, deserialize_with = "crate::config::non_empty")]
    pub cluster: Option<String>,
    /// The jobs task definition: `family`, `family:revision` or its ARN.
    #[serde(default, deserialize_with = "crate::config::non_empty")]
    pub task_definition: Option<String>,
    /// The container in that task definition that runs `reckon-job`; it gets the task
    /// as `RECKON_JOB_SPEC`.
    pub container: String,
    /// "FARGATE" or "EC2".
    pub launch_type: String,
    /// Subnets for awsvpc networking (required on Fargate), comma-separated in env.
    #[serde(deserialize_with = "crate::config::list_or_csv")]
    pub subnets: Vec<String>,
    #[serde(deserialize_with = "crate::config::list_or_csv")]
    pub security_groups: Vec<String>,
    /// Give the job a public IP (only for public subnets without a NAT).
    pub assign_public_ip: bool,
    /// A job still running after this long is stopped with StopTask and retried.
    pub deadline_seconds: u64,
    /// How often DescribeTasks is polled while a job runs.
    pub poll_interval_ms: u64,
}

impl EcsConfig {
    /// Checked when `worker.launcher = "ecs"`.
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        if self.cluster.is_none() {
            return Err(ConfigError::invalid(
                "ecs.cluster",
                "is required with worker.launcher = \"ecs\"",
            ));
        }
        if self.task_definition.is_none() {
            return Err(ConfigError::invalid(
                "ecs.task_definition",
                "is required with worker.launcher = \"ecs\"",
            ));
        }
        if self.container.is_empty() {
            return Err(ConfigError::invalid("ecs.container", "must not be empty"));
        }
        match self.launch_type.as_str() {
            "FARGATE" if self.subnets.is_empty() => {
                return Err(ConfigError::invalid(
                    "ecs.subnets",
                    "Fargate tasks need at least one subnet",
                ))
            }
            "FARGATE" | "EC2" => {}
            other => {
                return Err(ConfigError::invalid(
                    "ecs.launch_type",
                    format!("`{other}` is not FARGATE or EC2"),
                ))
            }
        }
        if self.deadline_seconds == 0 {
            return Err(ConfigError::invalid(
                "ecs.deadline_seconds",
                "must be greater than 0",
            ));
        }
        if self.poll_interval_ms == 0 {
            return Err(ConfigError::invalid(
                "ecs.poll_interval_ms",
                "must be greater than 0",
            ));
        }
        Ok(())
    }
}
