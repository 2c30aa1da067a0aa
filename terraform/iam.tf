# What the service's code may do (its task role). The execution roles and their limits
# (image pull, own secrets, own log group) are in modules/ecs_task; the scheduler's role
# (sqs:SendMessage on the task queue, nothing else) in modules/schedule; the jobs' task
# role has no permissions.
#
# The service is the dispatcher:
#   - the task queue and the DLQ: receive, delete, change visibility (lease heartbeats
#     and retry backoff), send (enqueue, dead-letter copies, retry), attributes, purge;
#   - RunTask of the jobs task definition only, and only on this cluster;
#   - DescribeTasks (watch a job) and StopTask (deadline) on this cluster's tasks;
#   - PassRole of the jobs' two roles only, and only to ECS tasks.

locals {
  jobs_task_definition_arns = [
    "arn:${local.partition}:ecs:${local.region}:${local.account_id}:task-definition/${module.jobs.family}",
    "arn:${local.partition}:ecs:${local.region}:${local.account_id}:task-definition/${module.jobs.family}:*",
  ]
  cluster_tasks_arn = "arn:${local.partition}:ecs:${local.region}:${local.account_id}:task/${module.cluster.name}/*"

  dispatcher_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "TaskQueues"
        Effect = "Allow"
        Action = [
          "sqs:ChangeMessageVisibility",
          "sqs:DeleteMessage",
          "sqs:GetQueueAttributes",
          "sqs:PurgeQueue",
          "sqs:ReceiveMessage",
          "sqs:SendMessage",
        ]
        Resource = [module.queue.queue_arn, module.queue.dlq_arn]
      },
      {
        Sid       = "RunJobs"
        Effect    = "Allow"
        Action    = ["ecs:RunTask"]
        Resource  = local.jobs_task_definition_arns
        Condition = { ArnEquals = { "ecs:cluster" = module.cluster.arn } }
      },
      {
        Sid       = "WatchAndStopJobs"
        Effect    = "Allow"
        Action    = ["ecs:DescribeTasks", "ecs:StopTask"]
        Resource  = [local.cluster_tasks_arn]
        Condition = { ArnEquals = { "ecs:cluster" = module.cluster.arn } }
      },
      {
        Sid       = "PassJobRoles"
        Effect    = "Allow"
        Action    = ["iam:PassRole"]
        Resource  = [module.jobs.task_role_arn, module.jobs.execution_role_arn]
        Condition = { StringEquals = { "iam:PassedToService" = "ecs-tasks.amazonaws.com" } }
      },
    ]
  }
}

resource "aws_iam_role_policy" "dispatcher" {
  name   = "dispatch-jobs"
  role   = module.service.task_role_name
  policy = jsonencode(local.dispatcher_policy)
}
