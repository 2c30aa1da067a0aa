output "webhook_url" {
  description = "Payload URL for the GitHub org webhook."
  value       = module.reckon.webhook_url
}

output "webhook_secret_arn" {
  description = "Secret holding the webhook secret."
  value       = module.reckon.webhook_secret_arn
}

output "github_token_secret_arn" {
  description = "Secret to put the GitHub token in."
  value       = module.reckon.github_token_secret_arn
}

output "dashboard_url" {
  description = "The dashboard."
  value       = module.reckon.dashboard_url
}

output "dashboard_bucket" {
  description = "Bucket for frontend/dist."
  value       = module.reckon.dashboard_bucket
}

output "cloudfront_distribution_id" {
  description = "Distribution to invalidate after uploading the dashboard."
  value       = module.reckon.cloudfront_distribution_id
}

output "alb_dns_name" {
  description = "Point domain_name here if Route 53 does not hold it."
  value       = module.reckon.alb_dns_name
}

output "service_repository_url" {
  description = "ECR repository of the service image."
  value       = module.reckon.service_repository_url
}

output "jobs_repository_url" {
  description = "ECR repository of the jobs image."
  value       = module.reckon.jobs_repository_url
}

output "ecs_cluster_name" {
  description = "ECS cluster."
  value       = module.reckon.ecs_cluster_name
}

output "ecs_service_name" {
  description = "ECS service of `reckon serve`."
  value       = module.reckon.ecs_service_name
}

output "queue_url" {
  description = "Task queue."
  value       = module.reckon.queue_url
}

output "dlq_url" {
  description = "Dead-letter queue."
  value       = module.reckon.dlq_url
}

output "opensearch_endpoint" {
  description = "OpenSearch endpoint."
  value       = module.reckon.opensearch_endpoint
}

output "vpc_id" {
  description = "The VPC built here."
  value       = aws_vpc.this.id
}
