output "task_definition_arn" {
  description = "ARN of the task definition's current revision."
  value       = aws_ecs_task_definition.this.arn
}

output "family" {
  description = "Task definition family."
  value       = aws_ecs_task_definition.this.family
}

output "container_name" {
  description = "The container's name."
  value       = var.container_name
}

output "container_definition" {
  description = "The container definition as registered (for review and tests; holds no secret values)."
  value       = local.container
}

output "task_role_arn" {
  description = "ARN of the task role."
  value       = aws_iam_role.task.arn
}

output "task_role_name" {
  description = "Name of the task role (attach the code's permissions to it)."
  value       = aws_iam_role.task.name
}

output "execution_role_arn" {
  description = "ARN of the execution role."
  value       = aws_iam_role.execution.arn
}

output "execution_policy" {
  description = "The execution role's policy document (JSON)."
  value       = aws_iam_role_policy.execution.policy
}

output "log_group_name" {
  description = "The container's log group."
  value       = aws_cloudwatch_log_group.this.name
}

output "log_group_arn" {
  description = "ARN of the log group."
  value       = aws_cloudwatch_log_group.this.arn
}

output "log_retention_days" {
  description = "Days the log group keeps the logs."
  value       = aws_cloudwatch_log_group.this.retention_in_days
}
