data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition

  tags = merge({ Application = "reckon", Deployment = var.name }, var.tags)

  # Where GitHub and people reach the service: the custom domain (whose record points
  # at the ALB and which the certificate covers) or the ALB's own DNS name.
  public_host = coalesce(var.domain_name, aws_lb.this.dns_name)
  public_url  = "https://${local.public_host}"

  service_family    = "${var.name}-serve"
  service_container = "reckon"
  jobs_family       = "${var.name}-job"
  jobs_container    = "reckon-job" # RECKON_ECS_CONTAINER; Reckon's default

  # Settings both containers share: the store, and the extra ones from the caller.
  store_environment = {
    RECKON_STORE                  = "elasticsearch"
    RECKON_ELASTICSEARCH_URL      = "https://${local.opensearch_endpoint}:443"
    RECKON_ELASTICSEARCH_USERNAME = var.opensearch_master_user_name
    RECKON_LOG_FORMAT             = "json"
    AWS_REGION                    = local.region
  }
}
