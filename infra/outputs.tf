output "cdn_url" {
  description = "Public URL of the site (CloudFront)."
  value       = var.public_base_url != "" ? var.public_base_url : "https://${aws_cloudfront_distribution.this.domain_name}"
}

output "read_function_url" {
  description = "The read API's function URL: it answers only SigV4 requests signed by the distribution (403 for anyone else); readers use cdn_url/api/..."
  value       = aws_lambda_function_url.read.function_url
}

output "table_name" {
  description = "DynamoDB table holding the catalogue."
  value       = aws_dynamodb_table.this.name
}

output "site_bucket" {
  description = "Private S3 bucket holding the published snapshot."
  value       = aws_s3_bucket.site.bucket
}

output "publisher_function" {
  description = "Name of the publisher Lambda (invoke with {\"action\": \"rebuild\"} for a full rebuild)."
  value       = module.publisher.function_name
}

output "read_function" {
  description = "Name of the read API Lambda."
  value       = module.read.function_name
}

output "canary_function" {
  description = "Name of the freshness canary Lambda (one probe per invocation; its SLI metrics are in LlmCatalogue/service=canary)."
  value       = module.canary.function_name
}

output "dlq_url" {
  description = "URL of the publisher's dead-letter queue."
  value       = aws_sqs_queue.publisher_dlq.url
}

output "alarm_topic_arn" {
  description = "SNS topic every alarm notifies (subscribe on-call to it)."
  value       = aws_sns_topic.alarms.arn
}

output "ticket_topic_arn" {
  description = "SNS topic of the ticket-severity alerts (slow SLO burns, read throttles and latency)."
  value       = aws_sns_topic.tickets.arn
}

output "alert_topic_arns" {
  description = "Every topic an alert notifies (on-call subscribes to each once with its own credentials: infra/README.md, Alert e-mails)."
  value       = distinct([aws_sns_topic.alarms.arn, aws_sns_topic.tickets.arn, local.edge_alarm_topic, local.edge_ticket_topic])
}

output "dashboard_name" {
  description = "CloudWatch dashboard of the service."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}
