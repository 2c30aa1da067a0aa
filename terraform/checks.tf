# Rules that involve more than one input (a variable's own validation can only see
# itself on Terraform < 1.9).
resource "terraform_data" "input_checks" {
  lifecycle {
    precondition {
      condition     = (var.existing_opensearch_endpoint == null) == (var.existing_opensearch_password_secret_arn == null)
      error_message = "existing_opensearch_endpoint and existing_opensearch_password_secret_arn go together: set both to bring your own domain, or neither to create one."
    }
    precondition {
      condition     = (var.dashboard_domain_name == null) == (var.dashboard_certificate_arn == null)
      error_message = "dashboard_domain_name and dashboard_certificate_arn go together."
    }
    precondition {
      condition     = var.route53_zone_id == null || var.domain_name != null
      error_message = "route53_zone_id needs domain_name (the record to create)."
    }
    precondition {
      condition     = var.opensearch_instance_count == 1 || length(var.private_subnet_ids) >= 2
      error_message = "opensearch_instance_count > 1 spreads the domain over two AZs and needs two private subnets."
    }
  }
}
