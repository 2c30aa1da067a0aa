output "webhook_url" {
  description = "Payload URL for the GitHub org webhook (content type application/json)."
  value       = "${local.public_url}/hooks/github"
}

output "service_url" {
  description = "Public base URL of the service (RECKON_PUBLIC_URL)."
  value       = local.public_url
}

output "alb_dns_name" {
  description = "DNS name of the ALB (point domain_name at it: CNAME or alias)."
  value       = aws_lb.this.dns_name
}

output "alb_zone_id" {
  description = "Route 53 zone of the ALB, for an alias record."
  value       = aws_lb.this.zone_id
}

output "dashboard_url" {
  description = "URL of the dashboard on CloudFront."
  value       = "${local.dashboard_origin}/"
}

output "dashboard_bucket" {
  description = "Bucket to upload frontend/dist to."
  value       = module.dashboard_bucket.bucket
}

output "cloudfront_distribution_id" {
  description = "Distribution to invalidate after an upload."
  value       = aws_cloudfront_distribution.dashboard.id
}

output "dashboard_api_routing" {
  description = "Whether CloudFront forwards /api/*, /hooks/* and /healthz to the service (then build the dashboard without VITE_RECKON_API_BASE)."
  value       = local.api_routing
}

output "queue_url" {
  description = "URL of the task queue."
  value       = module.queue.queue_url
}

output "queue_arn" {
  description = "ARN of the task queue."
  value       = module.queue.queue_arn
}

output "dlq_url" {
  description = "URL of the dead-letter queue."
  value       = module.queue.dlq_url
}

output "dlq_arn" {
  description = "ARN of the dead-letter queue."
  value       = module.queue.dlq_arn
}

output "schedule_names" {
  description = "EventBridge Scheduler schedules (one per org), in group schedule_group_name."
  value       = module.schedule.schedule_names
}

output "schedule_group_name" {
  description = "The schedules' group."
  value       = module.schedule.group_name
}

output "opensearch_endpoint" {
  description = "OpenSearch domain endpoint (host, HTTPS on 443)."
  value       = local.opensearch_endpoint
}

output "opensearch_dashboards_url" {
  description = "OpenSearch Dashboards of the created domain (reachable from inside the VPC only); null for your own domain."
  value       = local.create_opensearch ? "https://${aws_opensearch_domain.this[0].dashboard_endpoint}" : null
}

output "service_repository_url" {
  description = "ECR repository of the service image (docker build -t <url>:<tag> .)."
  value       = aws_ecr_repository.this["service"].repository_url
}

output "jobs_repository_url" {
  description = "ECR repository of the jobs image (docker build -f jobs/Dockerfile -t <url>:<tag> .)."
  value       = aws_ecr_repository.this["jobs"].repository_url
}

output "ecs_cluster_name" {
  description = "ECS cluster name."
  value       = module.cluster.name
}

output "ecs_cluster_arn" {
  description = "ECS cluster ARN (RECKON_ECS_CLUSTER)."
  value       = module.cluster.arn
}

output "ecs_service_name" {
  description = "ECS service running `reckon serve`."
  value       = aws_ecs_service.service.name
}

output "jobs_task_definition_family" {
  description = "Jobs task definition family (RECKON_ECS_TASK_DEFINITION: RunTask uses its latest revision)."
  value       = module.jobs.family
}

output "jobs_task_definition_arn" {
  description = "ARN of the jobs task definition's current revision."
  value       = module.jobs.task_definition_arn
}

output "jobs_container_name" {
  description = "Container that gets RECKON_JOB_SPEC."
  value       = module.jobs.container_name
}

output "service_log_group" {
  description = "CloudWatch log group of the service."
  value       = module.service.log_group_name
}

output "jobs_log_group" {
  description = "CloudWatch log group of the jobs."
  value       = module.jobs.log_group_name
}

output "webhook_secret_arn" {
  description = "Secret holding the GitHub webhook secret (read it to configure the webhook)."
  value       = aws_secretsmanager_secret.webhook.arn
}

output "admin_token_secret_arn" {
  description = "Secret holding the admin read token (paste it into the dashboard)."
  value       = aws_secretsmanager_secret.admin_token.arn
}

output "github_token_secret_arn" {
  description = "Secret to put the GitHub token(s) in."
  value       = aws_secretsmanager_secret.github_token.arn
}

output "opensearch_password_secret_arn" {
  description = "Secret holding the OpenSearch user's password."
  value       = local.opensearch_password_secret_arn
}

output "task_security_group_ids" {
  description = "Security groups of the service and job tasks (admit them on your own OpenSearch domain)."
  value       = { service = aws_security_group.service.id, jobs = aws_security_group.jobs.id }
}
