variable "name" {
  description = "Prefix for every named resource (functions, roles, queue, topic, alarms, dashboard)."
  type        = string
  default     = "llm-catalogue"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name)) && !endswith(var.name, "-pipeline")
    error_message = "name must be 3-31 characters of lower-case letters, digits and hyphens, starting with a letter, and must not end in -pipeline (the pipeline roles of a stack <x> live on the path /<x>-pipeline/, which would be the service-role path of a stack named <x>-pipeline)."
  }
}

variable "region" {
  description = "AWS region for the stack. CloudFront-scoped pieces (WAF, CloudFront alarm) always go to us-east-1."
  type        = string
  default     = "us-east-1"
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary of every role this stack creates. Empty: the service boundary infra/bootstrap creates (policy/<name>-pipeline/<name>-service-boundary), which the deploy role requires on every role it creates."
  type        = string
  default     = ""
}

variable "tags" {
  description = "Extra tags applied to every resource through the provider's default_tags."
  type        = map(string)
  default     = {}
}

# --- data ------------------------------------------------------------------------------------

variable "table_name" {
  description = "DynamoDB table holding the catalogue. Keep `llm_scores` to adopt the PoC table with `terraform import`."
  type        = string
  default     = "llm_scores"
}

variable "table_deletion_protection" {
  description = "Refuse to delete the table (turn off only to tear down a test stack)."
  type        = bool
  default     = true
}

variable "site_bucket_name" {
  description = "Name of the private site bucket. Empty: `<name>-site-<account id>`."
  type        = string
  default     = ""
}

variable "noncurrent_version_expiration_days" {
  description = "Days a replaced snapshot object version is kept for rollback before it expires."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && var.noncurrent_version_expiration_days <= 3650
    error_message = "noncurrent_version_expiration_days must be between 1 and 3650."
  }
}

variable "snapshot_transition_days" {
  description = "Days after which a dated snapshot (snapshots/<date>.json) moves to STANDARD_IA."
  type        = number
  default     = 30

  validation {
    # S3 refuses a transition to STANDARD_IA before an object is 30 days old.
    condition     = var.snapshot_transition_days >= 30 && var.snapshot_transition_days <= 3650
    error_message = "snapshot_transition_days must be between 30 and 3650 (S3's minimum for STANDARD_IA is 30)."
  }
}

variable "history_retention_days" {
  description = "Days the log of versions (internal/log/) and its checkpoints (internal/checkpoint/) are kept: as-of reads and GET /api/changes answer within them (the read API is told the same number), older ones get a 400 naming the range or a 410. Default: a year back and a month to spare."
  type        = number
  default     = 400

  validation {
    condition     = var.history_retention_days >= 30 && var.history_retention_days <= 3650
    error_message = "history_retention_days must be between 30 and 3650."
  }
}

variable "kms_deletion_window_days" {
  description = "Waiting period before the service's KMS key is deleted after `terraform destroy`."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_deletion_window_days >= 7 && var.kms_deletion_window_days <= 30
    error_message = "kms_deletion_window_days must be between 7 and 30."
  }
}

# --- functions -------------------------------------------------------------------------------

variable "publisher_zip_path" {
  description = "Path of the publisher's deployment zip built by `make package`. Empty: dist/publisher.zip at the repository root."
  type        = string
  default     = ""
}

variable "read_zip_path" {
  description = "Path of the read API's deployment zip built by `make package`. Empty: dist/read_api.zip at the repository root."
  type        = string
  default     = ""
}

variable "canary_zip_path" {
  description = "Path of the freshness canary's deployment zip built by `make package`. Empty: dist/canary.zip at the repository root."
  type        = string
  default     = ""
}

variable "powertools_layer_arn" {
  description = <<-EOT
    ARN of the AWS-managed Powertools for AWS Lambda (Python) v3 layer for python3.13 on arm64
    (arn:aws:lambda:<region>:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:<n>).
    Empty: Powertools is bundled in the zips (the default, so the build is self-contained).
    If set, build with `scripts/package.py --powertools-layer` so the zip does not shadow the layer.
  EOT
  type        = string
  default     = ""

  validation {
    condition     = var.powertools_layer_arn == "" || can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:layer:[A-Za-z0-9_-]+:[0-9]+$", var.powertools_layer_arn))
    error_message = "powertools_layer_arn must be empty or a versioned Lambda layer ARN."
  }
}

variable "log_level" {
  description = "POWERTOOLS_LOG_LEVEL for both functions."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING or ERROR."
  }
}

variable "log_retention_days" {
  description = "Retention of every log group of the stack (Lambda, WAF)."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)."
  }
}

variable "public_base_url" {
  description = "Public https origin of the site (custom domain). Empty: the publisher uses the distribution's *.cloudfront.net URL and the read API uses the request's host."
  type        = string
  default     = ""

  validation {
    condition     = var.public_base_url == "" || can(regex("^https://[^/]+$", var.public_base_url))
    error_message = "public_base_url must be empty or https://host with no trailing slash."
  }
}

variable "changes_limit" {
  description = "CHANGES_LIMIT: how many recent change events changes.json / changes.xml keep (newest first)."
  type        = number
  default     = 200

  validation {
    condition     = var.changes_limit >= 1 && var.changes_limit <= 1000
    error_message = "changes_limit must be between 1 and 1000."
  }
}

variable "history_limit" {
  description = "HISTORY_LIMIT: how many change events (any tracked field) history/<slug>.json keeps per model name."
  type        = number
  default     = 500

  validation {
    condition     = var.history_limit >= 1 && var.history_limit <= 10000
    error_message = "history_limit must be between 1 and 10000."
  }
}

variable "publisher_memory_mb" {
  description = "Publisher memory (MB). CPU scales with it. A full trigger batch (10,000 records) peaks at about 220 MB on a 10k-model catalogue and about 500 MB on a 100k one (make bench ARGS=--full, benchmarks/results/batches.json): 1024 leaves headroom and twice the CPU of 512."
  type        = number
  default     = 1024

  validation {
    condition     = var.publisher_memory_mb >= 128 && var.publisher_memory_mb <= 10240
    error_message = "publisher_memory_mb must be between 128 and 10240."
  }
}

variable "publisher_timeout_seconds" {
  description = "Publisher timeout (s). A full rebuild scans the table and rewrites every object."
  type        = number
  default     = 120

  validation {
    condition     = var.publisher_timeout_seconds >= 3 && var.publisher_timeout_seconds <= 900
    error_message = "publisher_timeout_seconds must be between 3 and 900."
  }
}

variable "publisher_reserved_concurrency" {
  description = "Reserved concurrency of the publisher: caps parallel publishers (conditional writes make them safe, but each conflict is a retry) and guarantees it capacity. -1 leaves it unreserved (accounts with a concurrency quota of 10 cannot reserve any)."
  type        = number
  default     = 5

  validation {
    condition     = var.publisher_reserved_concurrency == -1 || (var.publisher_reserved_concurrency >= 1 && var.publisher_reserved_concurrency <= 1000)
    error_message = "publisher_reserved_concurrency must be -1 or between 1 and 1000."
  }
}

variable "stream_batch_size" {
  description = "Maximum stream records per publisher invocation (Lambda also ends a batch at 6 MB of payload). One invocation rewrites the snapshot once, so a burst of writes costs a handful of publishes: 10,000, the most Lambda allows, fits the publisher's memory (make bench). The local stack's poller takes its default from here."
  type        = number
  default     = 10000

  validation {
    condition     = var.stream_batch_size >= 1 && var.stream_batch_size <= 10000
    error_message = "stream_batch_size must be between 1 and 10000."
  }
}

variable "stream_batching_window_seconds" {
  description = "How long the trigger gathers records before invoking (s, whole seconds). Adds at most this much to a single write's publish lag. With 0 a batch is what one GetRecords call returns (at most 1,000 records), so a burst of 5,000 writes would cost at least 5 publishes; 1, the least above 0, lets a batch gather up to stream_batch_size records. While a publish runs, records wait in the stream (one invocation per shard at a time) and the next batch takes them all. The local stack's poller takes its default from here."
  type        = number
  default     = 1

  validation {
    condition     = var.stream_batching_window_seconds >= 0 && var.stream_batching_window_seconds <= 300
    error_message = "stream_batching_window_seconds must be between 0 and 300."
  }
}

variable "stream_max_retries" {
  description = "Retries of a failing stream batch (after bisecting) before it goes to the DLQ."
  type        = number
  default     = 5

  validation {
    condition     = var.stream_max_retries >= 0 && var.stream_max_retries <= 10000
    error_message = "stream_max_retries must be between 0 and 10000."
  }
}

variable "stream_max_record_age_seconds" {
  description = "How long (s) the trigger keeps trying a record (throttled, disabled, or behind a backlog) before it sends the record's metadata to the DLQ unapplied. Keep it equal to the reconcile interval: dropping a record sooner never shows it sooner (it then waits for a rebuild), and past one interval a reconcile has published the table since it was written. Poison records are given up by stream_max_retries long before this."
  type        = number
  default     = 3600

  validation {
    condition     = var.stream_max_record_age_seconds >= 60 && var.stream_max_record_age_seconds <= 604800
    error_message = "stream_max_record_age_seconds must be between 60 and 604800."
  }
}

variable "enable_stream_trigger" {
  description = "Attach the publisher to the table's stream. Only `make infra-local` turns it off, when it adopts a table another local stack (`make run`) is already reading: the emulator would hand that stream's records to this (never-running) function instead."
  type        = bool
  default     = true
}

variable "enable_reconcile_schedule" {
  description = "Create the EventBridge Scheduler schedule that invokes the publisher with {\"action\": \"rebuild\"}."
  type        = bool
  default     = true
}

variable "reconcile_schedule_expression" {
  description = "EventBridge Scheduler expression of the reconcile rebuild (repairs drift, e.g. after records aged out of the stream)."
  type        = string
  default     = "rate(1 hour)"

  validation {
    condition     = can(regex("^(rate|cron)\\(.+\\)$", var.reconcile_schedule_expression))
    error_message = "reconcile_schedule_expression must be a rate(...) or cron(...) expression."
  }
}

variable "enable_canary_schedule" {
  description = "Run the freshness canary on its schedule. Off only for a stack nobody reads (its freshness SLO then has no data and its canary-not-running alarm fires)."
  type        = bool
  default     = true
}

variable "canary_schedule_expression" {
  description = "EventBridge Scheduler expression of the freshness canary. Every 5 minutes: 8,760 runs a month of at most 11 CloudFront requests each (infra/slo.json edge_requests_per_run), under 10% of the Free plan's 1M, and the freshness SLO's 99% still allows 87 bad runs a month; each burn-rate window of 5 minutes holds one run (tests/infra/test_alert_table.py)."
  type        = string
  default     = "rate(5 minutes)"

  validation {
    condition     = can(regex("^(rate|cron)\\(.+\\)$", var.canary_schedule_expression))
    error_message = "canary_schedule_expression must be a rate(...) or cron(...) expression."
  }
}

variable "read_memory_mb" {
  description = "Read API memory (MB). It holds one in-memory copy of the snapshot."
  type        = number
  default     = 256

  validation {
    condition     = var.read_memory_mb >= 128 && var.read_memory_mb <= 10240
    error_message = "read_memory_mb must be between 128 and 10240."
  }
}

variable "read_timeout_seconds" {
  description = "Read API timeout (s); below CloudFront's default 30 s origin response timeout."
  type        = number
  default     = 10

  validation {
    condition     = var.read_timeout_seconds >= 1 && var.read_timeout_seconds <= 29
    error_message = "read_timeout_seconds must be between 1 and 29."
  }
}

variable "read_reserved_concurrency" {
  description = "Reserved concurrency of the read API: a cost ceiling under a flood (with the WAF's rate rules and the CDN cache in front) that also keeps the publisher's capacity. -1 leaves it unreserved."
  type        = number
  default     = 50

  validation {
    condition     = var.read_reserved_concurrency == -1 || (var.read_reserved_concurrency >= 1 && var.read_reserved_concurrency <= 10000)
    error_message = "read_reserved_concurrency must be -1 or between 1 and 10000."
  }
}

variable "read_tracing_mode" {
  description = "X-Ray tracing of the read API. PassThrough (the default) traces only requests that arrive sampled, which CloudFront's never do: the handler has no X-Ray SDK, so Active would record only Lambda's own segments, at $5 per million traces (1 request/s plus 5% of the rest, not configurable for Lambda). Set Active while investigating latency."
  type        = string
  default     = "PassThrough"

  validation {
    condition     = contains(["Active", "PassThrough"], var.read_tracing_mode)
    error_message = "read_tracing_mode must be Active or PassThrough."
  }
}

variable "snapshot_revalidate_seconds" {
  description = "SNAPSHOT_REVALIDATE_SECONDS: how long the read API trusts its in-memory snapshot before a conditional GET (a 304 costs one S3 GET request). It bounds how far an uncached API answer can trail the newest published snapshot; a name not found and min_version look at S3 again regardless."
  type        = number
  default     = 1

  validation {
    condition     = var.snapshot_revalidate_seconds >= 0 && var.snapshot_revalidate_seconds <= 3600
    error_message = "snapshot_revalidate_seconds must be between 0 and 3600."
  }
}

variable "read_snapstart" {
  description = <<-EOT
    Lambda SnapStart for the read API (python3.12+). Cuts cold starts by restoring a snapshot of
    the initialised runtime instead of importing Powertools on every cold start. It needs a
    published version, so this also publishes versions and routes the API to the `live` alias;
    SnapStart for Python is billed per cached snapshot and per restore. Off by default: the read
    API is off the hot path (CloudFront serves the list) and its cold start is ~300 ms.
  EOT
  type        = bool
  default     = false
}

variable "read_provisioned_concurrency" {
  description = <<-EOT
    Provisioned concurrency on the read API's `live` alias: that many always-warm environments,
    billed for every hour they exist, whether used or not. 0 (the default) disables it; use it only
    when p99 latency including cold starts is an SLO. Needs published versions (enabled with it).
  EOT
  type        = number
  default     = 0

  validation {
    condition     = var.read_provisioned_concurrency >= 0 && var.read_provisioned_concurrency <= 100
    error_message = "read_provisioned_concurrency must be between 0 and 100."
  }
}

# --- CDN ----------------------------------------------------------------------------

variable "api_cache_policy_id" {
  description = "CloudFront cache policy for /api/*. Empty (the default): this stack's own policy (query strings in the key, no headers or cookies forwarded). Only the emulator run sets it, because moto has no cache-policy API."
  type        = string
  default     = ""
}

variable "price_class" {
  description = "CloudFront price class (edge locations used)."
  type        = string
  default     = "PriceClass_100"

  validation {
    condition     = contains(["PriceClass_100", "PriceClass_200", "PriceClass_All"], var.price_class)
    error_message = "price_class must be PriceClass_100, PriceClass_200 or PriceClass_All."
  }
}

variable "aliases" {
  description = "Custom domain names of the distribution; needs acm_certificate_arn."
  type        = list(string)
  default     = []
}

variable "acm_certificate_arn" {
  description = "ACM certificate (in us-east-1) for the aliases. Empty: the default *.cloudfront.net certificate."
  type        = string
  default     = ""

  validation {
    condition     = var.acm_certificate_arn == "" || can(regex("^arn:aws[a-z-]*:acm:us-east-1:[0-9]{12}:certificate/.+$", var.acm_certificate_arn))
    error_message = "acm_certificate_arn must be empty or an ACM certificate ARN in us-east-1."
  }
}

variable "edge_contract_path" {
  description = "The edge contract (CORS, CSP, security headers) shared with the code. Empty: ../publisher/core/edge_contract.json beside this module; scratch copies of the module (make infra-local, tests) pass its absolute path."
  type        = string
  default     = ""
}

variable "custom_response_headers_policy" {
  description = "Create the response headers policy from the edge contract (CORS with preflight, the page's CSP, security headers) and attach it to every behaviour. Only the emulator, which has no response headers policy API, sets false: the behaviours then reference the AWS-managed CORS-with-preflight-and-SecurityHeadersPolicy, which lacks the CSP."
  type        = bool
  default     = true
}

variable "cdn_wait_for_deployment" {
  description = "Wait for CloudFront to report the distribution Deployed before apply returns (several minutes on AWS); the emulator run turns it off."
  type        = bool
  default     = true
}

variable "enable_waf" {
  description = "Attach the WAF web ACL (AWS IP reputation and known-bad-inputs rules, three rate-based rules: every path, the function's paths, the failover paths) to the distribution. Pay-as-you-go: $5/month per ACL, $1 per rule, $0.60 per million requests (make cost); included in CloudFront's flat-rate plans."
  type        = bool
  default     = true
}

variable "waf_rate_limit" {
  description = "Requests per client IP per 5-minute window before the WAF rate-based rule blocks it."
  type        = number
  default     = 2000

  validation {
    condition     = var.waf_rate_limit >= 100 && var.waf_rate_limit <= 2000000000
    error_message = "waf_rate_limit must be between 100 and 2000000000."
  }
}

variable "waf_api_rate_limit" {
  description = "Requests per client IP per 5-minute window to the read function's own paths (/api/*, /history/*: their cache key has the query string, so each new one runs code) before the WAF blocks that IP there."
  type        = number
  default     = 300

  validation {
    condition     = var.waf_api_rate_limit >= 10 && var.waf_api_rate_limit <= 2000000000
    error_message = "waf_api_rate_limit must be between 10 and 2000000000."
  }
}

variable "waf_failover_rate_limit" {
  description = "Requests per client IP per 5-minute window to the failover paths (/llms.json, /llms, /providers/*: S3 first, the read function when S3 cannot answer) before the WAF blocks that IP there. Looser than waf_api_rate_limit: the page and its readers fetch these, mostly from the cache, and many readers may share one address."
  type        = number
  default     = 1000

  validation {
    condition     = var.waf_failover_rate_limit >= 10 && var.waf_failover_rate_limit <= 2000000000
    error_message = "waf_failover_rate_limit must be between 10 and 2000000000."
  }
}

# --- observability ----------------------------------------------------------------------------

variable "iterator_age_alarm_ms" {
  description = "Alarm when the publisher's stream iterator age (oldest unprocessed record) exceeds this (ms)."
  type        = number
  default     = 60000

  validation {
    condition     = var.iterator_age_alarm_ms >= 1000
    error_message = "iterator_age_alarm_ms must be at least 1000."
  }
}

variable "read_p99_duration_alarm_ms" {
  description = "Alarm when the read API's p99 duration exceeds this (ms) for 3 of 3 five-minute periods."
  type        = number
  default     = 1000

  validation {
    condition     = var.read_p99_duration_alarm_ms >= 10
    error_message = "read_p99_duration_alarm_ms must be at least 10."
  }
}

