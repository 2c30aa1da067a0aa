# The queue, scheduler, ECS (cluster + jobs task definition + roles) and S3 parts of the
# deployment, applied to moto (https://github.com/getmoto/moto) so that Reckon's own
# tests can run against what Terraform creates. Same modules as the real deployment;
# left out: the SQS redrive-allow policy and OpenSearch (moto hangs on both), and what
# is not needed to exercise the queue and the ECS launcher (ALB, CloudFront, ECR).
#
# Run with apply.sh ENDPOINT OUTPUT_JSON (a fresh state and name prefix each time).

terraform {
  required_version = ">= 1.7"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 6.0"
    }
  }
}

variable "endpoint" {
  description = "moto server URL, e.g. http://127.0.0.1:5055."
  type        = string

  validation {
    condition     = can(regex("^https?://[^/]+/?$", var.endpoint))
    error_message = "endpoint must be a URL such as http://127.0.0.1:5055."
  }
}

variable "name" {
  description = "Prefix of every resource name (apply.sh makes a fresh one per run)."
  type        = string
  default     = "reckon-moto"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name))
    error_message = "name: 2-31 lowercase letters, digits or hyphens."
  }
}

variable "github_orgs" {
  description = "Orgs to create reconcile schedules for."
  type        = list(string)
  default     = ["acme", "globex"]
}

# moto accepts any credentials; these fixed fake ones keep the provider from looking
# for real ones.
provider "aws" {
  region                      = "us-east-1"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  s3_use_path_style           = true

  endpoints {
    cloudwatchlogs = var.endpoint
    ec2            = var.endpoint
    ecs            = var.endpoint
    iam            = var.endpoint
    s3             = var.endpoint
    scheduler      = var.endpoint
    secretsmanager = var.endpoint
    sqs            = var.endpoint
    sts            = var.endpoint
  }
}

# --- network for the jobs' awsvpc configuration ----------------------------------------

# DNS hostnames on, as in any VPC running Fargate tasks (moto's RunTask also needs them
# to describe the task's network interface).
resource "aws_vpc" "this" {
  cidr_block           = "10.42.0.0/16"
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = { Name = var.name }
}

resource "aws_subnet" "private" {
  vpc_id            = aws_vpc.this.id
  cidr_block        = "10.42.1.0/24"
  availability_zone = "us-east-1a"
  tags              = { Name = "${var.name}-private" }
}

resource "aws_security_group" "jobs" {
  name_prefix = "${var.name}-jobs-"
  description = "Reckon job tasks: no inbound"
  vpc_id      = aws_vpc.this.id
}

resource "aws_vpc_security_group_egress_rule" "jobs_https" {
  security_group_id = aws_security_group.jobs.id
  description       = "HTTPS: OpenSearch, ECR, GitHub"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

# --- the shared modules ----------------------------------------------------------------

module "queue" {
  source = "../modules/queue"

  name                        = "${var.name}-tasks"
  create_redrive_allow_policy = false
}

module "schedule" {
  source = "../modules/schedule"

  name      = var.name
  orgs      = var.github_orgs
  queue_arn = module.queue.queue_arn
}

module "cluster" {
  source = "../modules/ecs_cluster"

  name = var.name
}

resource "aws_secretsmanager_secret" "github_token" {
  name_prefix = "${var.name}/github-token-"
}

resource "aws_secretsmanager_secret" "opensearch" {
  name_prefix = "${var.name}/opensearch-password-"
}

module "jobs" {
  source = "../modules/ecs_task"

  family         = "${var.name}-job"
  container_name = "reckon-job"
  image          = "reckon-job:moto"
  entrypoint     = ["/usr/local/bin/reckon-job"]

  environment = {
    RECKON_STORE                  = "elasticsearch"
    RECKON_ELASTICSEARCH_URL      = "https://opensearch.invalid:443"
    RECKON_ELASTICSEARCH_USERNAME = "reckon"
    RECKON_LOG_FORMAT             = "json"
  }
  secrets = {
    RECKON_ELASTICSEARCH_PASSWORD = aws_secretsmanager_secret.opensearch.arn
    RECKON_GITHUB_TOKEN           = aws_secretsmanager_secret.github_token.arn
  }

  log_group_name     = "/ecs/${var.name}-job"
  log_retention_days = 7
}

module "dashboard_bucket" {
  source = "../modules/dashboard_bucket"

  bucket_name   = "${var.name}-dashboard"
  force_destroy = true
}

# --- outputs: the interface Reckon's tests read (tests/it/aws.rs) ------------------------

output "queue_url" {
  value = module.queue.queue_url
}

output "queue_arn" {
  value = module.queue.queue_arn
}

output "dlq_url" {
  value = module.queue.dlq_url
}

output "dlq_arn" {
  value = module.queue.dlq_arn
}

output "ecs_cluster_arn" {
  value = module.cluster.arn
}

output "jobs_task_definition_arn" {
  value = module.jobs.task_definition_arn
}

output "jobs_task_definition_family" {
  value = module.jobs.family
}

output "jobs_container_name" {
  value = module.jobs.container_name
}

output "jobs_task_role_arn" {
  value = module.jobs.task_role_arn
}

output "jobs_execution_role_arn" {
  value = module.jobs.execution_role_arn
}

output "subnet_ids" {
  value = [aws_subnet.private.id]
}

output "security_group_ids" {
  value = [aws_security_group.jobs.id]
}

output "schedule_names" {
  value = module.schedule.schedule_names
}

output "schedule_group_name" {
  value = module.schedule.group_name
}

output "scheduler_role_arn" {
  value = module.schedule.role_arn
}

output "dashboard_bucket" {
  value = module.dashboard_bucket.bucket
}

output "region" {
  value = "us-east-1"
}
