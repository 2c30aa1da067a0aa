# Amazon OpenSearch Service domain (OpenSearch 2.x) in the private subnets.
#
# - Fine-grained access control with the internal user database; Reckon signs in as the
#   master user (`reckon`) with HTTP basic auth, its password in Secrets Manager.
# - Encryption at rest and node-to-node, HTTPS only with TLS 1.2+.
# - Network: only the service and jobs security groups reach it, on 443. The access
#   policy admits any principal to the domain's HTTP API because, with fine-grained access
#   control, authorisation is done by the internal users and roles (AWS's recommended
#   setup for FGAC), while the VPC security group decides who can connect at all.
#
# Bring your own domain with `existing_opensearch_endpoint` and
# `existing_opensearch_password_secret_arn`; nothing here is created then.

locals {
  create_opensearch   = var.existing_opensearch_endpoint == null
  opensearch_domain   = var.name
  opensearch_multi_az = var.opensearch_instance_count > 1
  opensearch_subnets  = slice(var.private_subnet_ids, 0, min(length(var.private_subnet_ids), local.opensearch_multi_az ? 2 : 1))
  opensearch_endpoint = local.create_opensearch ? aws_opensearch_domain.this[0].endpoint : var.existing_opensearch_endpoint
  opensearch_arn      = "arn:${local.partition}:es:${local.region}:${local.account_id}:domain/${local.opensearch_domain}"
}

resource "aws_iam_service_linked_role" "opensearch" {
  count            = local.create_opensearch && var.create_opensearch_service_linked_role ? 1 : 0
  aws_service_name = "opensearchservice.amazonaws.com"
}

resource "aws_opensearch_domain" "this" {
  count = local.create_opensearch ? 1 : 0

  domain_name    = local.opensearch_domain
  engine_version = var.opensearch_engine_version

  cluster_config {
    instance_type          = var.opensearch_instance_type
    instance_count         = var.opensearch_instance_count
    zone_awareness_enabled = local.opensearch_multi_az

    dynamic "zone_awareness_config" {
      for_each = local.opensearch_multi_az ? [1] : []
      content {
        availability_zone_count = 2
      }
    }
  }

  ebs_options {
    ebs_enabled = true
    volume_type = "gp3"
    volume_size = var.opensearch_volume_size_gb
  }

  vpc_options {
    subnet_ids         = local.opensearch_subnets
    security_group_ids = [aws_security_group.opensearch[0].id]
  }

  encrypt_at_rest {
    enabled = true
  }

  node_to_node_encryption {
    enabled = true
  }

  domain_endpoint_options {
    enforce_https       = true
    tls_security_policy = "Policy-Min-TLS-1-2-2019-07"
  }

  advanced_security_options {
    enabled                        = true
    anonymous_auth_enabled         = false
    internal_user_database_enabled = true
    master_user_options {
      master_user_name     = var.opensearch_master_user_name
      master_user_password = aws_secretsmanager_secret_version.opensearch[0].secret_string
    }
  }

  access_policies = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = "*" }
      Action    = "es:ESHttp*"
      Resource  = "${local.opensearch_arn}/*"
    }]
  })

  dynamic "log_publishing_options" {
    for_each = toset(["ES_APPLICATION_LOGS", "INDEX_SLOW_LOGS", "SEARCH_SLOW_LOGS"])
    content {
      log_type                 = log_publishing_options.value
      cloudwatch_log_group_arn = aws_cloudwatch_log_group.opensearch[0].arn
    }
  }

  software_update_options {
    auto_software_update_enabled = true
  }

  tags = local.tags

  depends_on = [
    aws_iam_service_linked_role.opensearch,
    aws_cloudwatch_log_resource_policy.opensearch,
  ]
}
