# The four secrets, in Secrets Manager (encrypted with the account's aws/secretsmanager
# key). Containers get them through their task definitions' `secrets` (valueFrom = the
# secret's ARN): ECS reads them with the execution role when a task starts, so no value
# is in a task definition or in plain environment.
#
# Generated values (the webhook secret, the OpenSearch password) come from Secrets
# Manager's GetRandomPassword. The data source draws a new one at every plan, so the
# stored version ignores later draws: a value changes only when you rotate it.
# The OpenSearch password is also an argument of the domain, so it is in Terraform state:
# keep state in an encrypted, access-controlled backend.

# --- GitHub webhook secret --------------------------------------------------------------

data "aws_secretsmanager_random_password" "webhook" {
  password_length     = 40
  exclude_punctuation = true # Reckon splits RECKON_GITHUB_WEBHOOK_SECRET on commas
  include_space       = false
}

resource "aws_secretsmanager_secret" "webhook" {
  name_prefix             = "${var.name}/github-webhook-secret-"
  description             = "Reckon: GitHub webhook secret (RECKON_GITHUB_WEBHOOK_SECRET). Comma-separate two values while rotating."
  recovery_window_in_days = 7
  tags                    = local.tags
}

resource "aws_secretsmanager_secret_version" "webhook" {
  secret_id     = aws_secretsmanager_secret.webhook.id
  secret_string = data.aws_secretsmanager_random_password.webhook.random_password

  lifecycle {
    ignore_changes = [secret_string]
  }
}

# --- Admin read token -------------------------------------------------------------------

# The service listens on a non-loopback address, so it starts only once some read
# token exists: this one reads everything (RECKON_ACCESS_ADMIN_TOKENS). Paste it into the
# dashboard; issue narrower ones with `reckon tokens add`.
data "aws_secretsmanager_random_password" "admin_token" {
  password_length     = 48
  exclude_punctuation = true # Reckon splits RECKON_ACCESS_ADMIN_TOKENS on commas
  include_space       = false
}

resource "aws_secretsmanager_secret" "admin_token" {
  name_prefix             = "${var.name}/admin-read-token-"
  description             = "Reckon: admin read token for the API and dashboard (RECKON_ACCESS_ADMIN_TOKENS). Comma-separate two values while rotating."
  recovery_window_in_days = 7
  tags                    = local.tags
}

resource "aws_secretsmanager_secret_version" "admin_token" {
  secret_id     = aws_secretsmanager_secret.admin_token.id
  secret_string = data.aws_secretsmanager_random_password.admin_token.random_password

  lifecycle {
    ignore_changes = [secret_string]
  }
}

# --- GitHub token ----------------------------------------------------------------------

resource "aws_secretsmanager_secret" "github_token" {
  name_prefix             = "${var.name}/github-token-"
  description             = "Reckon: GitHub token(s), comma-separated (RECKON_GITHUB_TOKEN). Scopes: read:org, repo; admin:org_hook to redeliver."
  recovery_window_in_days = 7
  tags                    = local.tags
}

# Only when given as a variable; otherwise put it with
#   aws secretsmanager put-secret-value --secret-id <github_token_secret_arn> --secret-string ghp_...
resource "aws_secretsmanager_secret_version" "github_token" {
  count         = var.github_token == null ? 0 : 1
  secret_id     = aws_secretsmanager_secret.github_token.id
  secret_string = var.github_token
}

# --- OpenSearch master user password ----------------------------------------------------

# Fine-grained access control wants 8+ characters with upper, lower, digit and symbol.
# Quotes, backslash and characters with a meaning in URLs are left out.
data "aws_secretsmanager_random_password" "opensearch" {
  count                      = local.create_opensearch ? 1 : 0
  password_length            = 32
  require_each_included_type = true
  exclude_characters         = "\"'\\/@:%?#&+=`{}[]<>|^~$;,"
  include_space              = false
}

resource "aws_secretsmanager_secret" "opensearch" {
  count                   = local.create_opensearch ? 1 : 0
  name_prefix             = "${var.name}/opensearch-password-"
  description             = "Reckon: password of the OpenSearch user ${var.opensearch_master_user_name} (RECKON_ELASTICSEARCH_PASSWORD)."
  recovery_window_in_days = 7
  tags                    = local.tags
}

resource "aws_secretsmanager_secret_version" "opensearch" {
  count         = local.create_opensearch ? 1 : 0
  secret_id     = aws_secretsmanager_secret.opensearch[0].id
  secret_string = data.aws_secretsmanager_random_password.opensearch[0].random_password

  lifecycle {
    ignore_changes = [secret_string]
  }
}

locals {
  opensearch_password_secret_arn = local.create_opensearch ? aws_secretsmanager_secret.opensearch[0].arn : var.existing_opensearch_password_secret_arn

  # (A missing password secret is reported by checks.tf; it is left out here so that
  # only that error shows.)
  service_secrets = { for k, v in {
    RECKON_ELASTICSEARCH_PASSWORD = local.opensearch_password_secret_arn
    RECKON_GITHUB_WEBHOOK_SECRET  = aws_secretsmanager_secret.webhook.arn
    RECKON_GITHUB_TOKEN           = aws_secretsmanager_secret.github_token.arn
    RECKON_ACCESS_ADMIN_TOKENS    = aws_secretsmanager_secret.admin_token.arn
  } : k => v if v != null }

  # The jobs never see the webhook secret or the admin token.
  jobs_secrets = { for k, v in {
    RECKON_ELASTICSEARCH_PASSWORD = local.opensearch_password_secret_arn
    RECKON_GITHUB_TOKEN           = aws_secretsmanager_secret.github_token.arn
  } : k => v if v != null }
}
