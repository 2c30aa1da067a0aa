# Values the mocked aws provider returns for computed attributes, shaped like the real
# ones (ARNs, URLs, JSON) so the provider's own validation accepts them.

mock_data "aws_caller_identity" {
  defaults = {
    account_id = "123456789012"
    arn        = "arn:aws:iam::123456789012:user/test"
    user_id    = "AIDAMOCK"
  }
}

mock_data "aws_region" {
  defaults = {
    name = "eu-west-1"
  }
}

mock_data "aws_partition" {
  defaults = {
    partition  = "aws"
    dns_suffix = "amazonaws.com"
  }
}

mock_data "aws_secretsmanager_random_password" {
  defaults = {
    random_password = "Mock-Passw0rd-For-Tests_0123456789"
  }
}

mock_resource "aws_secretsmanager_secret" {
  defaults = {
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:reckon/mock-AbCdEf"
  }
}

mock_resource "aws_secretsmanager_secret_version" {
  defaults = {
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:reckon/mock-AbCdEf"
  }
}

mock_resource "aws_sqs_queue" {
  defaults = {
    arn = "arn:aws:sqs:eu-west-1:123456789012:reckon-tasks"
    id  = "https://sqs.eu-west-1.amazonaws.com/123456789012/reckon-tasks"
    url = "https://sqs.eu-west-1.amazonaws.com/123456789012/reckon-tasks"
  }
}

mock_resource "aws_iam_role" {
  defaults = {
    arn = "arn:aws:iam::123456789012:role/mock"
  }
}

mock_resource "aws_iam_service_linked_role" {
  defaults = {
    arn = "arn:aws:iam::123456789012:role/aws-service-role/opensearchservice.amazonaws.com/AWSServiceRoleForAmazonOpenSearchService"
  }
}

mock_resource "aws_ecs_cluster" {
  defaults = {
    arn = "arn:aws:ecs:eu-west-1:123456789012:cluster/reckon"
  }
}

mock_resource "aws_ecs_task_definition" {
  defaults = {
    arn                  = "arn:aws:ecs:eu-west-1:123456789012:task-definition/reckon-job:1"
    arn_without_revision = "arn:aws:ecs:eu-west-1:123456789012:task-definition/reckon-job"
    revision             = 1
  }
}

mock_resource "aws_ecs_service" {
  defaults = {
    id = "arn:aws:ecs:eu-west-1:123456789012:service/reckon/reckon"
  }
}

mock_resource "aws_cloudwatch_log_group" {
  defaults = {
    arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/mock"
  }
}

mock_resource "aws_ecr_repository" {
  defaults = {
    arn            = "arn:aws:ecr:eu-west-1:123456789012:repository/reckon"
    repository_url = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/reckon"
    registry_id    = "123456789012"
  }
}

mock_resource "aws_lb" {
  defaults = {
    arn        = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/reckon/0123456789abcdef"
    arn_suffix = "app/reckon/0123456789abcdef"
    dns_name   = "reckon-123456789.eu-west-1.elb.amazonaws.com"
    zone_id    = "Z32O12XQLNTSW2"
  }
}

mock_resource "aws_lb_target_group" {
  defaults = {
    arn        = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/reckon-serve/0123456789abcdef"
    arn_suffix = "targetgroup/reckon-serve/0123456789abcdef"
  }
}

mock_resource "aws_lb_listener" {
  defaults = {
    arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/reckon/0123456789abcdef/0123456789abcdef"
  }
}

mock_resource "aws_security_group" {
  defaults = {
    id  = "sg-0123456789abcdef0"
    arn = "arn:aws:ec2:eu-west-1:123456789012:security-group/sg-0123456789abcdef0"
  }
}

mock_resource "aws_s3_bucket" {
  defaults = {
    arn                         = "arn:aws:s3:::reckon-dashboard-123456789012"
    bucket_regional_domain_name = "reckon-dashboard-123456789012.s3.eu-west-1.amazonaws.com"
  }
}

mock_resource "aws_cloudfront_distribution" {
  defaults = {
    arn            = "arn:aws:cloudfront::123456789012:distribution/EDFDVBD6EXAMPLE"
    id             = "EDFDVBD6EXAMPLE"
    domain_name    = "d111111abcdef8.cloudfront.net"
    hosted_zone_id = "Z2FDTNDATAQYW2"
  }
}

mock_resource "aws_opensearch_domain" {
  defaults = {
    arn                = "arn:aws:es:eu-west-1:123456789012:domain/reckon"
    endpoint           = "vpc-reckon-abcdefghijklmnop.eu-west-1.es.amazonaws.com"
    dashboard_endpoint = "vpc-reckon-abcdefghijklmnop.eu-west-1.es.amazonaws.com/_dashboards"
  }
}

mock_resource "aws_scheduler_schedule_group" {
  defaults = {
    arn = "arn:aws:scheduler:eu-west-1:123456789012:schedule-group/reckon"
  }
}

mock_resource "aws_scheduler_schedule" {
  defaults = {
    arn = "arn:aws:scheduler:eu-west-1:123456789012:schedule/reckon/reconcile"
  }
}
