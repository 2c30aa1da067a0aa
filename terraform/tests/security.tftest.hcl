# Security properties of the whole deployment, on a mocked aws provider (offline).
# `command = apply` so that computed values (ARNs, URLs) are the mocks' and the
# assertions can read rendered policies and container definitions.

mock_provider "aws" {
  source = "./tests"
}

variables {
  vpc_id             = "vpc-0123456789abcdef0"
  public_subnet_ids  = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"]
  private_subnet_ids = ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0bbbbbbbbbbbbbbb2"]
  certificate_arn    = "arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
  domain_name        = "reckon.example.com"
  image_tag          = "0123abc"
  github_orgs        = ["acme", "globex"]
}

# Distinct ARNs for the resources whose ARNs the assertions tell apart.
override_resource {
  target = module.queue.aws_sqs_queue.main
  values = {
    arn = "arn:aws:sqs:eu-west-1:123456789012:reckon-tasks"
    id  = "https://sqs.eu-west-1.amazonaws.com/123456789012/reckon-tasks"
    url = "https://sqs.eu-west-1.amazonaws.com/123456789012/reckon-tasks"
  }
}

override_resource {
  target = module.queue.aws_sqs_queue.dlq
  values = {
    arn = "arn:aws:sqs:eu-west-1:123456789012:reckon-tasks-dlq"
    id  = "https://sqs.eu-west-1.amazonaws.com/123456789012/reckon-tasks-dlq"
    url = "https://sqs.eu-west-1.amazonaws.com/123456789012/reckon-tasks-dlq"
  }
}

override_resource {
  target = module.jobs.aws_iam_role.task
  values = { arn = "arn:aws:iam::123456789012:role/reckon-job-task" }
}

override_resource {
  target = module.jobs.aws_iam_role.execution
  values = { arn = "arn:aws:iam::123456789012:role/reckon-job-execution" }
}

override_resource {
  target = module.service.aws_iam_role.task
  values = { arn = "arn:aws:iam::123456789012:role/reckon-serve-task" }
}

override_resource {
  target = module.service.aws_iam_role.execution
  values = { arn = "arn:aws:iam::123456789012:role/reckon-serve-execution" }
}

override_resource {
  target = aws_secretsmanager_secret.webhook
  values = { arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:reckon/github-webhook-secret-AbCdEf" }
}

override_resource {
  target = aws_secretsmanager_secret.admin_token
  values = { arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:reckon/admin-read-token-AbCdEf" }
}

override_resource {
  target = aws_secretsmanager_secret.github_token
  values = { arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:reckon/github-token-AbCdEf" }
}

override_resource {
  target = aws_secretsmanager_secret.opensearch
  values = { arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:reckon/opensearch-password-AbCdEf" }
}

override_resource {
  target = module.service.aws_cloudwatch_log_group.this
  values = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/reckon-serve" }
}

override_resource {
  target = module.jobs.aws_cloudwatch_log_group.this
  values = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/reckon-job" }
}

override_resource {
  target = aws_security_group.service
  values = { id = "sg-0000000000000serv" }
}

override_resource {
  target = aws_security_group.jobs
  values = { id = "sg-00000000000000job" }
}

override_resource {
  target = aws_security_group.alb
  values = { id = "sg-00000000000000alb" }
}

run "opensearch_domain_is_locked_down" {
  assert {
    condition     = aws_opensearch_domain.this[0].encrypt_at_rest[0].enabled && aws_opensearch_domain.this[0].node_to_node_encryption[0].enabled
    error_message = "OpenSearch must encrypt at rest and between nodes."
  }
  assert {
    condition     = aws_opensearch_domain.this[0].domain_endpoint_options[0].enforce_https && aws_opensearch_domain.this[0].domain_endpoint_options[0].tls_security_policy == "Policy-Min-TLS-1-2-2019-07"
    error_message = "OpenSearch must enforce HTTPS with TLS 1.2 or later."
  }
  assert {
    condition = (
      aws_opensearch_domain.this[0].advanced_security_options[0].enabled
      && aws_opensearch_domain.this[0].advanced_security_options[0].internal_user_database_enabled
      && !aws_opensearch_domain.this[0].advanced_security_options[0].anonymous_auth_enabled
      && aws_opensearch_domain.this[0].advanced_security_options[0].master_user_options[0].master_user_name == "reckon"
    )
    error_message = "OpenSearch must use fine-grained access control with the internal user database and the master user reckon."
  }
  assert {
    condition     = startswith(aws_opensearch_domain.this[0].engine_version, "OpenSearch_2.")
    error_message = "OpenSearch must be 2.x."
  }
  assert {
    condition     = toset(aws_opensearch_domain.this[0].vpc_options[0].subnet_ids) == toset(["subnet-0bbbbbbbbbbbbbbb1"]) && toset(aws_opensearch_domain.this[0].vpc_options[0].security_group_ids) == toset([aws_security_group.opensearch[0].id])
    error_message = "A one-node domain must sit in the first private subnet, in its own security group."
  }
  assert {
    condition = (
      toset(keys(aws_vpc_security_group_ingress_rule.opensearch_from_tasks)) == toset(["jobs", "service"])
      && alltrue([for r in aws_vpc_security_group_ingress_rule.opensearch_from_tasks : r.from_port == 443 && r.to_port == 443 && r.ip_protocol == "tcp" && r.cidr_ipv4 == null])
      && toset([for r in aws_vpc_security_group_ingress_rule.opensearch_from_tasks : r.referenced_security_group_id]) == toset(["sg-0000000000000serv", "sg-00000000000000job"])
    )
    error_message = "Only the service and jobs security groups may reach OpenSearch, on 443."
  }
  assert {
    condition     = aws_opensearch_domain.this[0].advanced_security_options[0].master_user_options[0].master_user_password == aws_secretsmanager_secret_version.opensearch[0].secret_string
    error_message = "The domain's master password must be the one stored in Secrets Manager."
  }
}

run "scheduler_may_only_send_to_the_queue" {
  assert {
    condition = jsondecode(module.schedule.role_policy).Statement == [{
      Sid      = "SendReconcileTasks"
      Effect   = "Allow"
      Action   = ["sqs:SendMessage"]
      Resource = ["arn:aws:sqs:eu-west-1:123456789012:reckon-tasks"]
    }]
    error_message = "The scheduler role must have exactly sqs:SendMessage on the main queue."
  }
  assert {
    condition     = toset(module.schedule.schedule_names) == toset(["reconcile-acme", "reconcile-globex"])
    error_message = "One schedule per org."
  }
  assert {
    condition = alltrue([for org in ["acme", "globex"] :
      jsondecode(module.schedule.inputs[org]) == { task = "reconcile", org = org, scheduled_at = "<aws.scheduler.scheduled-time>" }
      && strcontains(module.schedule.inputs[org], "\"<aws.scheduler.scheduled-time>\"")
    ])
    error_message = "Each schedule must send Reckon's reconcile message with the literal scheduled-time placeholder."
  }
}

run "dispatcher_permissions_are_least_privilege" {
  assert {
    condition = alltrue([for s in jsondecode(aws_iam_role_policy.dispatcher.policy).Statement :
      s.Resource == [
        "arn:aws:ecs:eu-west-1:123456789012:task-definition/reckon-job",
        "arn:aws:ecs:eu-west-1:123456789012:task-definition/reckon-job:*",
      ] && s.Condition == { ArnEquals = { "ecs:cluster" = "arn:aws:ecs:eu-west-1:123456789012:cluster/reckon" } }
      if contains(s.Action, "ecs:RunTask")
    ])
    error_message = "ecs:RunTask must be limited to the jobs task definition family on this cluster."
  }
  assert {
    condition = alltrue([for s in jsondecode(aws_iam_role_policy.dispatcher.policy).Statement :
      s.Action == ["iam:PassRole"]
      && s.Resource == ["arn:aws:iam::123456789012:role/reckon-job-task", "arn:aws:iam::123456789012:role/reckon-job-execution"]
      && s.Condition == { StringEquals = { "iam:PassedToService" = "ecs-tasks.amazonaws.com" } }
      if contains(s.Action, "iam:PassRole")
    ])
    error_message = "iam:PassRole must be limited to the jobs task and execution roles, passed to ECS tasks."
  }
  assert {
    condition = alltrue([for s in jsondecode(aws_iam_role_policy.dispatcher.policy).Statement :
      s.Resource == ["arn:aws:ecs:eu-west-1:123456789012:task/reckon/*"]
      if contains(s.Action, "ecs:DescribeTasks") || contains(s.Action, "ecs:StopTask")
    ])
    error_message = "DescribeTasks and StopTask must be limited to the cluster's tasks."
  }
  assert {
    condition = alltrue([for s in jsondecode(aws_iam_role_policy.dispatcher.policy).Statement :
      s.Resource == ["arn:aws:sqs:eu-west-1:123456789012:reckon-tasks", "arn:aws:sqs:eu-west-1:123456789012:reckon-tasks-dlq"]
      && toset(s.Action) == toset(["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:PurgeQueue", "sqs:ReceiveMessage", "sqs:SendMessage"])
      if anytrue([for a in s.Action : startswith(a, "sqs:")])
    ])
    error_message = "The SQS permissions must cover the two queues only."
  }
  assert {
    condition = alltrue([for s in jsondecode(aws_iam_role_policy.dispatcher.policy).Statement :
      s.Effect == "Allow" && !contains(s.Resource, "*") && alltrue([for a in s.Action : !endswith(a, "*")])
    ])
    error_message = "The dispatcher policy must have no wildcard resource or action."
  }
  assert {
    condition = length(jsondecode(aws_iam_role_policy.dispatcher.policy).Statement) == 4 && alltrue([
      for action in ["ecs:RunTask", "iam:PassRole", "ecs:DescribeTasks", "sqs:ReceiveMessage"] :
      length([for s in jsondecode(aws_iam_role_policy.dispatcher.policy).Statement : s if contains(s.Action, action)]) == 1
    ])
    error_message = "The dispatcher policy has exactly the four statements reviewed above, one for each kind of permission."
  }
}

run "execution_roles_read_only_their_secrets_and_logs" {
  assert {
    condition = toset([for s in jsondecode(module.service.execution_policy).Statement : s.Resource if s.Sid == "ReadOwnSecrets"][0]) == toset([
      "arn:aws:secretsmanager:eu-west-1:123456789012:secret:reckon/opensearch-password-AbCdEf",
      "arn:aws:secretsmanager:eu-west-1:123456789012:secret:reckon/github-webhook-secret-AbCdEf",
      "arn:aws:secretsmanager:eu-west-1:123456789012:secret:reckon/github-token-AbCdEf",
      "arn:aws:secretsmanager:eu-west-1:123456789012:secret:reckon/admin-read-token-AbCdEf",
    ])
    error_message = "The service's execution role must read exactly its four secrets."
  }
  assert {
    condition = toset([for s in jsondecode(module.jobs.execution_policy).Statement : s.Resource if s.Sid == "ReadOwnSecrets"][0]) == toset([
      "arn:aws:secretsmanager:eu-west-1:123456789012:secret:reckon/opensearch-password-AbCdEf",
      "arn:aws:secretsmanager:eu-west-1:123456789012:secret:reckon/github-token-AbCdEf",
    ])
    error_message = "The jobs' execution role must read only the OpenSearch password and the GitHub token."
  }
  assert {
    condition = (
      [for s in jsondecode(module.service.execution_policy).Statement : s.Resource if s.Sid == "WriteOwnLogGroup"][0] == ["arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/reckon-serve", "arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/reckon-serve:log-stream:*"]
      && [for s in jsondecode(module.jobs.execution_policy).Statement : s.Resource if s.Sid == "WriteOwnLogGroup"][0] == ["arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/reckon-job", "arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/reckon-job:log-stream:*"]
    )
    error_message = "Each execution role may write only its own log group."
  }
  assert {
    condition = alltrue(flatten([for p in [module.service.execution_policy, module.jobs.execution_policy] : [
      for s in jsondecode(p).Statement : s.Action == ["ecr:GetAuthorizationToken"] if contains(s.Resource, "*")
    ]]))
    error_message = "Only ecr:GetAuthorizationToken (which has no resource-level permissions) may use Resource *."
  }
}

run "log_retention_is_set" {
  variables {
    log_retention_days = 90
  }
  assert {
    condition     = module.service.log_retention_days == 90 && module.jobs.log_retention_days == 90 && aws_cloudwatch_log_group.opensearch[0].retention_in_days == 90
    error_message = "Every log group must have the configured retention."
  }
}

run "secrets_come_from_secrets_manager_not_environment" {
  assert {
    condition = module.service.container_definition.secrets == [
      { name = "RECKON_ACCESS_ADMIN_TOKENS", valueFrom = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:reckon/admin-read-token-AbCdEf" },
      { name = "RECKON_ELASTICSEARCH_PASSWORD", valueFrom = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:reckon/opensearch-password-AbCdEf" },
      { name = "RECKON_GITHUB_TOKEN", valueFrom = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:reckon/github-token-AbCdEf" },
      { name = "RECKON_GITHUB_WEBHOOK_SECRET", valueFrom = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:reckon/github-webhook-secret-AbCdEf" },
    ]
    error_message = "The service must get its four secrets through `secrets` (valueFrom ARNs)."
  }
  assert {
    condition = module.jobs.container_definition.secrets == [
      { name = "RECKON_ELASTICSEARCH_PASSWORD", valueFrom = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:reckon/opensearch-password-AbCdEf" },
      { name = "RECKON_GITHUB_TOKEN", valueFrom = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:reckon/github-token-AbCdEf" },
    ]
    error_message = "The jobs must get the store password and the GitHub token through `secrets`, and not the webhook secret."
  }
  assert {
    condition = alltrue(flatten([for c in [module.service.container_definition, module.jobs.container_definition] : [
      for e in c.environment : !can(regex("PASSWORD|TOKEN|SECRET|API_KEY", e.name)) && !strcontains(e.value, "Mock-Passw0rd")
    ]]))
    error_message = "No secret may be in a container's plain environment."
  }
}

run "service_environment_is_reckons_aws_configuration" {
  assert {
    condition = { for e in module.service.container_definition.environment : e.name => e.value } == {
      AWS_REGION                       = "eu-west-1"
      RECKON_API_CORS_ORIGINS          = "https://d111111abcdef8.cloudfront.net"
      RECKON_DASHBOARD_ENABLED         = "false"
      RECKON_ECS_ASSIGN_PUBLIC_IP      = "false"
      RECKON_ECS_CLUSTER               = "arn:aws:ecs:eu-west-1:123456789012:cluster/reckon"
      RECKON_ECS_CONTAINER             = "reckon-job"
      RECKON_ECS_SECURITY_GROUPS       = "sg-00000000000000job"
      RECKON_ECS_SUBNETS               = "subnet-0bbbbbbbbbbbbbbb1,subnet-0bbbbbbbbbbbbbbb2"
      RECKON_ECS_TASK_DEFINITION       = "reckon-job"
      RECKON_ELASTICSEARCH_URL         = "https://vpc-reckon-abcdefghijklmnop.eu-west-1.es.amazonaws.com:443"
      RECKON_ELASTICSEARCH_USERNAME    = "reckon"
      RECKON_GITHUB_ORGS               = "acme,globex"
      RECKON_LISTEN                    = "0.0.0.0:8080"
      RECKON_LOG_FORMAT                = "json"
      RECKON_PUBLIC_URL                = "https://reckon.example.com"
      RECKON_QUEUE_BACKEND             = "sqs"
      RECKON_RECONCILE_ENABLED         = "false"
      RECKON_SQS_DEAD_LETTER_QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/reckon-tasks-dlq"
      RECKON_SQS_QUEUE_URL             = "https://sqs.eu-west-1.amazonaws.com/123456789012/reckon-tasks"
      RECKON_STORE                     = "elasticsearch"
      RECKON_WORKER_LAUNCHER           = "ecs"
    }
    error_message = "The service container's environment is not the expected Reckon configuration."
  }
  assert {
    condition     = module.service.container_definition.image == "123456789012.dkr.ecr.eu-west-1.amazonaws.com/reckon:0123abc" && module.service.container_definition.command == tolist(["serve"]) && module.service.container_definition.portMappings[0].containerPort == 8080
    error_message = "The service runs `reckon serve` from the reckon repository on port 8080."
  }
  assert {
    condition = (
      module.jobs.container_name == "reckon-job"
      && module.jobs.container_definition.entryPoint == tolist(["/usr/local/bin/reckon-job"])
      && { for e in module.jobs.container_definition.environment : e.name => e.value } == {
        AWS_REGION                    = "eu-west-1"
        RECKON_ELASTICSEARCH_URL      = "https://vpc-reckon-abcdefghijklmnop.eu-west-1.es.amazonaws.com:443"
        RECKON_ELASTICSEARCH_USERNAME = "reckon"
        RECKON_LOG_FORMAT             = "json"
        RECKON_STORE                  = "elasticsearch"
      }
    )
    error_message = "The jobs container is reckon-job with the store settings."
  }
  assert {
    condition     = output.webhook_url == "https://reckon.example.com/hooks/github"
    error_message = "The webhook URL is the public URL's /hooks/github."
  }
}

run "public_edge_is_https" {
  assert {
    condition     = aws_lb_listener.https.protocol == "HTTPS" && startswith(aws_lb_listener.https.ssl_policy, "ELBSecurityPolicy-TLS13-1-2") && aws_lb_listener.https.certificate_arn == var.certificate_arn
    error_message = "The ALB must serve HTTPS with a TLS 1.2+ policy and the given certificate."
  }
  assert {
    condition     = aws_lb_listener.http.default_action[0].type == "redirect" && aws_lb_listener.http.default_action[0].redirect[0].protocol == "HTTPS" && aws_lb_listener.http.default_action[0].redirect[0].status_code == "HTTP_301"
    error_message = "HTTP must only redirect to HTTPS."
  }
  assert {
    condition     = aws_lb_target_group.service.health_check[0].path == "/healthz" && aws_lb_target_group.service.port == 8080 && aws_lb.this.drop_invalid_header_fields
    error_message = "Health checks are GET /healthz on 8080; invalid headers are dropped."
  }
  assert {
    condition     = aws_ecs_service.service.network_configuration[0].assign_public_ip == false && toset(aws_ecs_service.service.network_configuration[0].subnets) == toset(var.private_subnet_ids)
    error_message = "Service tasks run in the private subnets without public IPs."
  }
  assert {
    condition = (
      aws_cloudfront_distribution.dashboard.default_root_object == "index.html"
      && aws_cloudfront_distribution.dashboard.default_cache_behavior[0].viewer_protocol_policy == "redirect-to-https"
      && [for o in aws_cloudfront_distribution.dashboard.origin : o.origin_access_control_id if o.origin_id == "dashboard-s3"][0] == aws_cloudfront_origin_access_control.dashboard.id
      && aws_cloudfront_origin_access_control.dashboard.signing_behavior == "always"
    )
    error_message = "CloudFront must serve index.html over HTTPS from the bucket through OAC."
  }
  assert {
    condition     = [for b in aws_cloudfront_distribution.dashboard.ordered_cache_behavior : b.path_pattern] == ["/api/*", "/hooks/*", "/healthz"] && alltrue([for b in aws_cloudfront_distribution.dashboard.ordered_cache_behavior : b.viewer_protocol_policy == "https-only" && b.target_origin_id == "reckon-service"])
    error_message = "With a domain name, CloudFront routes the service's paths to it over HTTPS."
  }
  assert {
    condition     = alltrue([for r in aws_ecr_repository.this : r.image_tag_mutability == "IMMUTABLE" && r.image_scanning_configuration[0].scan_on_push]) && toset([for r in aws_ecr_repository.this : r.name]) == toset(["reckon", "reckon-job"])
    error_message = "ECR repositories reckon and reckon-job scan on push and have immutable tags."
  }
}

run "bring_your_own_opensearch" {
  variables {
    existing_opensearch_endpoint            = "vpc-mine-xyz.eu-west-1.es.amazonaws.com"
    existing_opensearch_password_secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mine/os-XyZ123"
  }
  assert {
    condition     = length(aws_opensearch_domain.this) == 0 && length(aws_secretsmanager_secret.opensearch) == 0 && length(aws_security_group.opensearch) == 0
    error_message = "With an existing domain nothing OpenSearch is created."
  }
  assert {
    condition = (
      { for e in module.service.container_definition.environment : e.name => e.value }["RECKON_ELASTICSEARCH_URL"] == "https://vpc-mine-xyz.eu-west-1.es.amazonaws.com:443"
      && [for s in module.jobs.container_definition.secrets : s.valueFrom if s.name == "RECKON_ELASTICSEARCH_PASSWORD"][0] == var.existing_opensearch_password_secret_arn
    )
    error_message = "The containers use the given endpoint and password secret."
  }
}

run "without_a_domain_name_the_dashboard_calls_the_alb" {
  variables {
    domain_name = null
  }
  assert {
    condition     = length(aws_cloudfront_distribution.dashboard.ordered_cache_behavior) == 0 && length(aws_cloudfront_distribution.dashboard.origin) == 1
    error_message = "Without a domain name CloudFront has no service origin (the ALB's name would not match its certificate)."
  }
  assert {
    condition     = output.service_url == "https://reckon-123456789.eu-west-1.elb.amazonaws.com"
    error_message = "Without a domain name the public URL is the ALB's DNS name."
  }
}

run "only_hooks_and_health_face_the_internet_by_default" {
  command = apply

  assert {
    condition     = aws_lb_listener.https.default_action[0].type == "fixed-response" && aws_lb_listener.https.default_action[0].fixed_response[0].status_code == "404"
    error_message = "the HTTPS listener must answer 404 to paths no rule opens"
  }

  assert {
    condition     = toset(one(aws_lb_listener_rule.hooks.condition).path_pattern[0].values) == toset(["/hooks/*", "/healthz"])
    error_message = "only /hooks/* and /healthz may be forwarded to everyone"
  }

  assert {
    condition     = length(aws_lb_listener_rule.api) == 0
    error_message = "the read API must be closed unless api_allowed_cidrs is set"
  }
}

run "the_api_opens_to_allowed_sources_only" {
  command = apply

  variables {
    api_allowed_cidrs = ["192.0.2.0/24"]
  }

  assert {
    condition     = toset(one(aws_lb_listener_rule.api[0].condition).source_ip[0].values) == toset(["192.0.2.0/24"])
    error_message = "the API rule must be limited to api_allowed_cidrs"
  }
}
