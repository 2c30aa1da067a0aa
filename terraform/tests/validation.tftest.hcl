# Input validation: every run plans with one bad input and expects exactly that
# variable's validation (or the cross-input check) to fail.

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
  github_orgs        = ["acme"]
}

run "valid_inputs_plan" {
  command = plan

  variables {
    github_orgs                   = ["acme", "Globex-Corp", "a1"]
    reconcile_schedule_expression = "rate(30 minutes)"
    log_retention_days            = 365
    queue_max_receive_count       = 1000
    alb_ingress_cidrs             = ["192.0.2.0/24", "198.51.100.7/32"]
    extra_environment             = { RECKON_GITHUB_API_URL = "https://ghe.example.com/api/v3" }
    dashboard_domain_name         = "stats.example.com"
    dashboard_certificate_arn     = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-1111-1111-1111-111111111111"
    route53_zone_id               = "Z0123456789ABCDEFGHIJ"
    opensearch_instance_count     = 2
  }

  assert {
    condition     = length(module.schedule.schedule_names) == 3
    error_message = "Three orgs, three schedules."
  }
}

run "rejects_name_with_uppercase" {
  command = plan

  variables {
    name = "Reckon"
  }

  expect_failures = [var.name]
}

run "rejects_name_too_long" {
  command = plan

  variables {
    name = "reckon-with-a-very-long-name"
  }

  expect_failures = [var.name]
}

run "rejects_org_with_leading_hyphen" {
  command = plan

  variables {
    github_orgs = ["-acme"]
  }

  expect_failures = [var.github_orgs]
}

run "rejects_org_with_double_hyphen" {
  command = plan

  variables {
    github_orgs = ["ac--me"]
  }

  expect_failures = [var.github_orgs]
}

run "rejects_org_too_long" {
  command = plan

  variables {
    github_orgs = ["a234567890123456789012345678901234567890"]
  }

  expect_failures = [var.github_orgs]
}

run "rejects_org_listed_twice" {
  command = plan

  variables {
    github_orgs = ["acme", "ACME"]
  }

  expect_failures = [var.github_orgs]
}

run "rejects_no_orgs" {
  command = plan

  variables {
    github_orgs = []
  }

  expect_failures = [var.github_orgs]
}

run "rejects_five_field_cron" {
  command = plan

  variables {
    reconcile_schedule_expression = "cron(7 * * * *)"
  }

  expect_failures = [var.reconcile_schedule_expression]
}

run "rejects_unix_cron_without_wrapper" {
  command = plan

  variables {
    reconcile_schedule_expression = "7 * * * *"
  }

  expect_failures = [var.reconcile_schedule_expression]
}

run "rejects_rate_in_seconds" {
  command = plan

  variables {
    reconcile_schedule_expression = "rate(30 seconds)"
  }

  expect_failures = [var.reconcile_schedule_expression]
}

run "rejects_log_retention_not_a_cloudwatch_value" {
  command = plan

  variables {
    log_retention_days = 42
  }

  expect_failures = [var.log_retention_days]
}

run "rejects_log_retention_zero" {
  command = plan

  variables {
    log_retention_days = 0
  }

  expect_failures = [var.log_retention_days]
}

run "rejects_max_receive_count_zero" {
  command = plan

  variables {
    queue_max_receive_count = 0
  }

  expect_failures = [var.queue_max_receive_count]
}

run "rejects_max_receive_count_too_high" {
  command = plan

  variables {
    queue_max_receive_count = 1001
  }

  expect_failures = [var.queue_max_receive_count]
}

run "rejects_visibility_timeout_over_12h" {
  command = plan

  variables {
    queue_visibility_timeout_seconds = 43201
  }

  expect_failures = [var.queue_visibility_timeout_seconds]
}

run "rejects_cidr_with_bad_mask" {
  command = plan

  variables {
    alb_ingress_cidrs = ["10.0.0.0/33"]
  }

  expect_failures = [var.alb_ingress_cidrs]
}

run "rejects_cidr_not_a_cidr" {
  command = plan

  variables {
    alb_ingress_cidrs = ["anywhere"]
  }

  expect_failures = [var.alb_ingress_cidrs]
}

run "rejects_vpc_id_malformed" {
  command = plan

  variables {
    vpc_id = "vpc-xyz"
  }

  expect_failures = [var.vpc_id]
}

run "rejects_one_public_subnet" {
  command = plan

  variables {
    public_subnet_ids = ["subnet-0aaaaaaaaaaaaaaa1"]
  }

  expect_failures = [var.public_subnet_ids]
}

run "rejects_certificate_not_acm" {
  command = plan

  variables {
    certificate_arn = "arn:aws:iam::123456789012:server-certificate/reckon"
  }

  expect_failures = [var.certificate_arn]
}

run "rejects_certificate_region_malformed" {
  command = plan

  variables {
    certificate_arn = "arn:aws:acm:europe:123456789012:certificate/00000000-0000-0000-0000-000000000000"
  }

  expect_failures = [var.certificate_arn]
}

run "rejects_dashboard_certificate_outside_us_east_1" {
  command = plan

  variables {
    dashboard_certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
    dashboard_domain_name     = "stats.example.com"
  }

  expect_failures = [var.dashboard_certificate_arn]
}

run "rejects_domain_with_scheme" {
  command = plan

  variables {
    domain_name = "https://reckon.example.com"
  }

  expect_failures = [var.domain_name]
}

run "rejects_image_tag_with_colon" {
  command = plan

  variables {
    image_tag = "v1:latest"
  }

  expect_failures = [var.image_tag]
}

run "rejects_elasticsearch_engine" {
  command = plan

  variables {
    opensearch_engine_version = "Elasticsearch_7.10"
  }

  expect_failures = [var.opensearch_engine_version]
}

run "rejects_opensearch_odd_node_count" {
  command = plan

  variables {
    opensearch_instance_count = 3
  }

  expect_failures = [var.opensearch_instance_count]
}

run "rejects_opensearch_endpoint_with_scheme" {
  command = plan

  variables {
    existing_opensearch_endpoint            = "https://vpc-x.eu-west-1.es.amazonaws.com"
    existing_opensearch_password_secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x-AbCdEf"
  }

  expect_failures = [var.existing_opensearch_endpoint]
}

run "rejects_extra_environment_overrides_a_managed_setting" {
  command = plan

  variables {
    extra_environment = { RECKON_STORE = "sqlite" }
  }

  expect_failures = [var.extra_environment]
}

run "rejects_extra_environment_not_reckon" {
  command = plan

  variables {
    extra_environment = { PATH = "/tmp" }
  }

  expect_failures = [var.extra_environment]
}

run "rejects_ssl_policy_allowing_tls_1_0" {
  command = plan

  variables {
    alb_ssl_policy = "ELBSecurityPolicy-2016-08"
  }

  expect_failures = [var.alb_ssl_policy]
}

run "rejects_service_cpu_not_fargate" {
  command = plan

  variables {
    service_cpu = 300
  }

  expect_failures = [var.service_cpu]
}

run "rejects_architecture_unknown" {
  command = plan

  variables {
    cpu_architecture = "amd64"
  }

  expect_failures = [var.cpu_architecture]
}

run "rejects_existing_endpoint_without_password" {
  command = plan

  variables {
    existing_opensearch_endpoint = "vpc-x.eu-west-1.es.amazonaws.com"
  }

  expect_failures = [terraform_data.input_checks]
}

run "rejects_dashboard_domain_without_certificate" {
  command = plan

  variables {
    dashboard_domain_name = "stats.example.com"
  }

  expect_failures = [terraform_data.input_checks]
}

run "rejects_zone_without_domain" {
  command = plan

  variables {
    domain_name     = null
    route53_zone_id = "Z0123456789ABCDEFGHIJ"
  }

  expect_failures = [terraform_data.input_checks]
}

run "rejects_multi_node_opensearch_in_one_subnet" {
  command = plan

  variables {
    opensearch_instance_count = 2
    private_subnet_ids        = ["subnet-0bbbbbbbbbbbbbbb1"]
  }

  expect_failures = [terraform_data.input_checks]
}
