output "schedule_names" {
  description = "Names of the schedules, one per org (in group `group_name`)."
  value       = [for org in var.orgs : aws_scheduler_schedule.reconcile[org].name]
}

output "schedule_arns" {
  description = "ARNs of the schedules by org."
  value       = { for org, s in aws_scheduler_schedule.reconcile : org => s.arn }
}

output "group_name" {
  description = "The schedule group."
  value       = aws_scheduler_schedule_group.this.name
}

output "role_arn" {
  description = "The role Scheduler assumes to send to the queue."
  value       = aws_iam_role.scheduler.arn
}

output "inputs" {
  description = "The message body each org's schedule sends, by org."
  value       = local.inputs
}

output "role_policy" {
  description = "The scheduler role's only policy (JSON)."
  value       = aws_iam_role_policy.scheduler.policy
}
