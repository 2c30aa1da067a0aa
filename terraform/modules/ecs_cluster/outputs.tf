output "arn" {
  description = "Cluster ARN (RECKON_ECS_CLUSTER)."
  value       = aws_ecs_cluster.this.arn
}

output "name" {
  description = "Cluster name."
  value       = aws_ecs_cluster.this.name
}
