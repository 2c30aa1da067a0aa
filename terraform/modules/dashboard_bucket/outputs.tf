output "bucket" {
  description = "Bucket name."
  value       = aws_s3_bucket.this.id
}

output "arn" {
  description = "Bucket ARN."
  value       = aws_s3_bucket.this.arn
}

output "regional_domain_name" {
  description = "The bucket's regional domain name (the CloudFront origin)."
  value       = aws_s3_bucket.this.bucket_regional_domain_name
}
