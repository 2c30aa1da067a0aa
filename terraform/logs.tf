# CloudWatch log groups. The service's and the jobs' are created with their task
# definitions (modules/ecs_task: /ecs/<name>-serve and /ecs/<name>-job), with
# `log_retention_days`; each execution role may write only its own group. The jobs' log
# stream of a task is named reckon-job/reckon-job/<task id>, which Reckon's errors name.
#
# The OpenSearch domain's application and slow logs go to a third group.

resource "aws_cloudwatch_log_group" "opensearch" {
  count             = local.create_opensearch ? 1 : 0
  name              = "/aws/opensearch/${var.name}"
  retention_in_days = var.log_retention_days
  tags              = local.tags
}

# OpenSearch Service writes to the group under this resource policy, limited to this
# account's domain.
resource "aws_cloudwatch_log_resource_policy" "opensearch" {
  count       = local.create_opensearch ? 1 : 0
  policy_name = "${var.name}-opensearch-logs"
  policy_document = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "es.amazonaws.com" }
      Action    = ["logs:PutLogEvents", "logs:CreateLogStream"]
      Resource  = "${aws_cloudwatch_log_group.opensearch[0].arn}:*"
      Condition = {
        StringEquals = { "aws:SourceAccount" = local.account_id }
        ArnLike      = { "aws:SourceArn" = local.opensearch_arn }
      }
    }]
  })
}
