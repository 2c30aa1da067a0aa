# The dashboard: frontend/dist in a private S3 bucket, served by CloudFront through
# origin access control (OAC). The dashboard is one index.html with hash routes
# (#/orgs/...), so no error-page rewriting is needed.
#
# The dashboard calls the stats API on its own origin unless built with
# VITE_RECKON_API_BASE (or the `reckon-api-base` meta tag in dist/index.html). With
# `dashboard_api_routing` and a `domain_name`, this distribution forwards /api/*,
# /hooks/* and /healthz to the service, uncached, so the default build just works.
# Otherwise build it with VITE_RECKON_API_BASE=<service URL>; the service allows the
# dashboard's origin either way (RECKON_API_CORS_ORIGINS).

locals {
  dashboard_bucket_name = coalesce(var.dashboard_bucket_name, "${var.name}-dashboard-${local.account_id}")
  api_routing           = var.dashboard_api_routing && var.domain_name != null
  api_paths             = ["/api/*", "/hooks/*", "/healthz"]

  # AWS-managed CloudFront policies (fixed IDs, the same in every account).
  cf_cache_optimized           = "658327ea-f89d-4fab-a63d-7e88639e58f6" # Managed-CachingOptimized
  cf_cache_disabled            = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad" # Managed-CachingDisabled
  cf_all_viewer_except_host    = "b689b0a8-53d0-40ab-baf2-68738e2966ac" # Managed-AllViewerExceptHostHeader
  dashboard_s3_origin_id       = "dashboard-s3"
  dashboard_service_origin_id  = "reckon-service"
  dashboard_custom_certificate = var.dashboard_certificate_arn != null
}

module "dashboard_bucket" {
  source = "./modules/dashboard_bucket"

  bucket_name                 = local.dashboard_bucket_name
  cloudfront_distribution_arn = aws_cloudfront_distribution.dashboard.arn
  tags                        = local.tags
}

resource "aws_cloudfront_origin_access_control" "dashboard" {
  name                              = "${var.name}-dashboard"
  description                       = "Reckon dashboard bucket"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

# Security headers on every dashboard response. The page loads only its own scripts and
# styles and talks to the API at its own origin, or at the service's public URL when
# built with VITE_RECKON_API_BASE.
resource "aws_cloudfront_response_headers_policy" "dashboard" {
  name    = "${var.name}-dashboard-security-headers"
  comment = "Reckon dashboard: HSTS, no sniffing, no framing, CSP"

  security_headers_config {
    strict_transport_security {
      access_control_max_age_sec = 31536000
      include_subdomains         = true # only names under the dashboard's own host
      preload                    = true
      override                   = true
    }
    content_type_options {
      override = true
    }
    frame_options {
      frame_option = "DENY"
      override     = true
    }
    referrer_policy {
      referrer_policy = "same-origin"
      override        = true
    }
    content_security_policy {
      content_security_policy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self' ${local.public_url} ${replace(local.public_url, "https://", "wss://")}; frame-ancestors 'none'; base-uri 'self'"
      override                = true
    }
  }
}

resource "aws_cloudfront_distribution" "dashboard" {
  enabled             = true
  web_acl_id          = var.cloudfront_web_acl_arn
  is_ipv6_enabled     = true
  comment             = "Reckon dashboard (${var.name})"
  default_root_object = "index.html"
  price_class         = var.cloudfront_price_class
  http_version        = "http2and3"
  aliases             = var.dashboard_domain_name == null ? [] : [var.dashboard_domain_name]

  origin {
    origin_id                = local.dashboard_s3_origin_id
    domain_name              = module.dashboard_bucket.regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.dashboard.id
  }

  dynamic "origin" {
    for_each = local.api_routing ? [var.domain_name] : []
    content {
      origin_id   = local.dashboard_service_origin_id
      domain_name = origin.value
      custom_origin_config {
        http_port              = 80
        https_port             = 443
        origin_protocol_policy = "https-only"
        origin_ssl_protocols   = ["TLSv1.2"]
        origin_read_timeout    = 60
      }
    }
  }

  default_cache_behavior {
    target_origin_id           = local.dashboard_s3_origin_id
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD", "OPTIONS"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = local.cf_cache_optimized
    response_headers_policy_id = aws_cloudfront_response_headers_policy.dashboard.id
  }

  # The service's paths, uncached, with every viewer header (Authorization included)
  # but Host, which must be the origin's own name for its certificate.
  dynamic "ordered_cache_behavior" {
    for_each = local.api_routing ? local.api_paths : []
    content {
      path_pattern             = ordered_cache_behavior.value
      target_origin_id         = local.dashboard_service_origin_id
      viewer_protocol_policy   = "https-only"
      allowed_methods          = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
      cached_methods           = ["GET", "HEAD"]
      compress                 = true
      cache_policy_id          = local.cf_cache_disabled
      origin_request_policy_id = local.cf_all_viewer_except_host
    }
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    cloudfront_default_certificate = !local.dashboard_custom_certificate
    acm_certificate_arn            = var.dashboard_certificate_arn
    ssl_support_method             = local.dashboard_custom_certificate ? "sni-only" : null
    minimum_protocol_version       = local.dashboard_custom_certificate ? "TLSv1.2_2021" : "TLSv1"
  }

  tags = local.tags
}
