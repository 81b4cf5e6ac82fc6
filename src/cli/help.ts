export const MAIN_HELP = `reachscan: reachability and roaming of phone numbers, in bulk, through carrier APIs

Usage: reachscan <command> [options]

Commands:
  scan <file> --out DIR  check every number of a CSV file; results.csv and reports in DIR
  plan <file>          what a scan would cost (rows, unique, cached, upstream requests, time), spending nothing
  report <results.csv> rebuild the reports (stale list, changes, report.json/md/html) from a results file
  worker               process batches queued in Redis (scale out: run as many as you like)
  resume <batch-id>    go on with a paused batch (too many carrier calls failed, refused setup, quota used up)
  quota                today's upstream requests per provider against REACHSCAN_DAILY_QUOTA: used, left, reset
  lookup <number>...   look numbers up now and print one line each
  simulate             run the carrier simulator (Vonage's APIs and a CAMARA v1 operator) on this machine
  watch <inbox> --out DIR  scan every CSV file dropped in a folder; files end in done/ or failed/
  schedule sync|list   scans declared in jobs/*.json: sync them to Redis, show next runs (workers run them)
  serve                HTTP API: upload CSV files, follow batches, download results; /metrics, /admin/queues
  history <number>     what the history holds about a number; history migrate: hash its keys (privacy)
  forget <number>...   erase numbers from the history (or --file F); says how many were there
  webhooks list|redeliver  the webhook delivery log (--failed), and sending an event again
  help [command]       show help for a command

Exit codes:
  0  every valid number answered (invalid cells and malformed records are counted and listed, not failures)
  1  finished, but lookups failed after their retries (scan --strict: also invalid numbers or malformed
     records)
  2  bad usage or bad input
  3  infrastructure or credentials (configuration, Redis, a full or read-only disk, carrier authentication)
  130  interrupted (Ctrl-C): run the same scan command again to resume

Configuration comes from the environment; every variable, with its default, is in docs/configuration.md:
  carrier  VONAGE_APPLICATION_ID, VONAGE_PRIVATE_KEY or VONAGE_PRIVATE_KEY_PATH, VONAGE_API_BASE_URL,
           VONAGE_PURPOSE, VONAGE_IDENTITY_INSIGHTS_PATH, VONAGE_DEVICE_STATUS_PATH,
           VONAGE_DEVICE_STATUS_COMBINED_SCOPES, REACHSCAN_HTTP_TIMEOUT_MS, REACHSCAN_PRICES
  camara   CAMARA_API_BASE_URL, CAMARA_AUTH (client-credentials, ciba, api-key), CAMARA_TOKEN_URL,
           CAMARA_AUTHORIZE_URL, CAMARA_CLIENT_ID, CAMARA_CLIENT_SECRET or CAMARA_CLIENT_KEY_PATH,
           CAMARA_API_KEY, CAMARA_PURPOSE, CAMARA_SCOPE_STYLE, … (docs/camara.md)
  Redis    REDIS_URL, REACHSCAN_QUEUE_PREFIX, REACHSCAN_STATE_PREFIX, REACHSCAN_STATE_RETENTION_DAYS,
           REACHSCAN_STATE_BUCKETS, REACHSCAN_STATE_SECRET (docs/privacy.md)
  jobs     REACHSCAN_RETRY_BASE_MS, REACHSCAN_JOB_LOCK_MS, REACHSCAN_DAILY_QUOTA, REACHSCAN_QUOTA_TZ
  serve    REACHSCAN_API_TOKEN, REACHSCAN_API_HOST, REACHSCAN_API_PORT, REACHSCAN_API_MAX_UPLOAD_MB,
           REACHSCAN_DATA_DIR, REACHSCAN_BATCH_RETENTION_DAYS
  webhooks REACHSCAN_WEBHOOK_URL, REACHSCAN_WEBHOOK_SECRET, REACHSCAN_WEBHOOK_TIMEOUT_MS,
           REACHSCAN_WEBHOOK_RETRY_BASE_MS, REACHSCAN_WEBHOOK_RETRY_FOR_MS, REACHSCAN_PUBLIC_URL
  other    REACHSCAN_LOG_LEVEL, REACHSCAN_SIMULATOR_SEED
`;

export const LOOKUP_HELP = `Usage: reachscan lookup <number>... [options]

Looks each number up (Vonage Identity Insights unless --provider says otherwise) and prints a table, or
JSON lines with --json. Transient failures are retried with backoff; a carrier's Retry-After is honoured. A
refused credential, a refused setup or a used-up quota stops it with one line and exit 3.

Options:
  --provider NAME          identity-insights (default), device-status or camara (see reachscan help scan)
  --simulate               start the built-in simulator with a throwaway key and ask it instead of Vonage
  --default-country CC     ISO country for numbers written in national form (e.g. GB for 07911 123456)
  --json                   one JSON object per number instead of a table
  --concurrency N          lookups in flight at once (default 8)

Try: reachscan lookup --simulate +990123400 +990123444 +447911123456
`;

export const SIMULATE_HELP = `Usage: reachscan simulate [options]

Runs a carrier simulator on this machine: Vonage Identity Insights at /identity-insights/v1/requests and
/v0.1/identity-insights, the back-channel auth (/oauth2/bc-authorize, /oauth2/token) and CAMARA Device Status
(/camara/device-status/v050/connectivity and /roaming), with JWT checks; and a CAMARA v1 operator
(/device-reachability-status/v1/retrieve, /device-roaming-status/v1/retrieve, OAuth at /oidc/token and
/oidc/bc-authorize, an API key); deterministic answers per number and seed, and dials for latency, a rate cap
and faults. Counters at GET /_sim/stats; dials at GET/PATCH
/_sim/dials.

Without --public-key it makes a throwaway application key pair, writes the private key to --key-out (or a
private temporary folder) and prints the environment to point reachscan at it. A private key already at
--key-out is used again, so clients holding that file are still accepted after a restart (give the same
--application-id too); delete the file for a new key pair.

Options:
  --host HOST                  listen address (default 127.0.0.1)
  --port N                     port, 0 picks a free one (default 4010)
  --seed TEXT                  outcomes are a pure function of seed and number (default reachscan)
  --anchor ISO-DATE            the time answers count back from (default 00:00 UTC today)
  --application-id UUID        accept this application id (default: a random one)
  --public-key PATH            accept JWTs signed by the private half of this public key
  --key-out PATH               where to write the throwaway private key (mode 0600); kept when already there
  --latency-ms N               added to every answer (default 0)
  --jitter-ms N                plus a uniform random 0..N ms (default 0)
  --rate-cap N                 requests per second over a sliding 1 s window, 429 beyond (default 0 = none)
  --no-retry-after             send 429s without a Retry-After header
  --slow-response-ms N         how late a timeout fault answers (default 30000)
  --auth-pending-share P       share of back-channel requests whose first token poll is pending (default 0)
  --auth-interval-s N          poll interval bc-authorize announces (default 2)
  --auth-request-ttl-s N       lifetime of an auth_req_id (default 120)
  --access-token-ttl-s N       lifetime of an access token (default 3600)
  --refuse-combined-scopes     answer invalid_scope to back-channel requests asking several scopes
  --camara-shape S             CAMARA retrieve answers as v1.1 (default), v1.0 or v0.6
  --camara-error CODE          every CAMARA retrieve call answers this error: QUOTA_EXCEEDED,
                               PERMISSION_DENIED, UNNECESSARY_IDENTIFIER, MISSING_IDENTIFIER,
                               UNSUPPORTED_IDENTIFIER, IDENTIFIER_NOT_FOUND, SERVICE_NOT_APPLICABLE,
                               UNAUTHENTICATED, TOO_MANY_REQUESTS, INVALID_ARGUMENT, INTERNAL, UNAVAILABLE
  --camara-error-api API       which API --camara-error hits: both (default), reachability or roaming
  --fault-500 P                share of requests answered 500 (0..1)
  --fault-503 P                share answered 503
  --fault-429 P                share answered 429 whatever the rate
  --fault-drop P               share whose connection is dropped without an answer
  --fault-timeout P            share answered after --slow-response-ms
  --fault-malformed P          share answered 200 with a truncated body
  --fault-supplier-error P     share answered 200 with every insight at SUPPLIER_ERROR
  --fault-internal-error P     share answered 200 with every insight at INTERNAL_ERROR
  --fault-unauthorized P       Identity Insights: share answered 200 with the --refused-insights at UNAUTHORIZED
  --fault-invalid-purpose P    Identity Insights: share answered 200 with every insight at INVALID_PURPOSE
  --fault-permission-denied P  Device Status: share of /connectivity and /roaming calls (those of the
                               --refused-insights) answered 403 PERMISSION_DENIED
  --fault-400 P                share answered 400 (invalid JSON; Device Status: INVALID_ARGUMENT)
  --fault-422 P                Identity Insights: share answered 422 with invalid_parameters
  --refused-insights LIST      reachability and/or roaming, comma-separated: the insights that
                               --fault-unauthorized and --fault-permission-denied refuse (default both)
`;

export const SCAN_HELP = `Usage: reachscan scan <file> --out DIR [options]

Reads a CSV file (UTF-8, with or without BOM; delimiter , ; TAB or | detected; a header row required)
or an Excel .xlsx workbook (its first sheet, or --sheet NAME; cells as Excel shows them), checks every phone number's reachability and roaming through Redis-queued workers, and writes to DIR:
  results.csv              every input row, in order, input columns unchanged, then phone_e164, reachable,
                           connectivity, last_status_at, roaming, roaming_countries, roaming_mcc,
                           reachability_status, roaming_status, checked_at, error, source,
                           no_connectivity_since, no_connectivity_evidence, changes, previous_checked_at,
                           previous_roaming_countries, last_seen_connected_at, request_id
                           (last_status_at is the carrier's status time: the last time the network updated
                           or confirmed the status, not when it changed; source=simulated marks answers of
                           the built-in simulator)
  rejects.csv              records that are not valid CSV: line, raw, reason
  no-connectivity-<N>d.csv not reachable now and no connectivity proven for N or more days: since the
                           carrier's status time when it is later than the last check that found the device
                           reachable, else since the first check that found it unreachable;
                           + days_without_connectivity
  changes.csv              what changed since each number's previous check: went_offline, came_back,
                           started_roaming, stopped_roaming, roaming_country_changed, became_not_found
  report.json, report.md,  counts: changes, reachability, days without connectivity, roaming by country,
  report.html              status codes, stale rows; invalid_numbers, malformed_records and lookups_failed
                           apart; a "Simulated carrier — not real data" banner on a simulated run
                           (report.html: one self-contained page with charts)

Options:
  --out DIR                output folder (created if missing)
  --provider NAME          identity-insights (default); device-status (Vonage's CAMARA v0.5.0 /connectivity
                           and /roaming with per-number back-channel tokens; no time, so last_status_at stays
                           empty); or camara (CAMARA Device Reachability and Roaming Status v1 at any
                           operator: client credentials, CIBA or an API key, CAMARA_* settings; a refused
                           setup or a used-up quota pauses the batch; docs/camara.md)
  --column NAME            the phone column (default: detected from phone, mobile, msisdn, cell, tel, number …)
  --default-country CC     ISO country for numbers written in national form (07400 123456 with GB)
  --concurrency N          lookups in flight per worker (default 32)
  --rate N                 upstream requests per second, all workers together, paced at 98% of N (default:
                           no cap of ours; a carrier's 429 and Retry-After are always honoured, and each
                           worker learns the carrier's cap from them)
  --chunk-size N           input records per queued chunk job (default 250)
  --stale-days N           the N of no-connectivity-<N>d.csv (default 60)
  --max-age DURATION       answer numbers checked more recently than this (90s, 30m, 24h, 7d) from the
                           history instead of the carrier; results.csv says source=cache (default 0: ask all)
  --dry-run                print the plan (as reachscan plan) and stop: nothing is queued or asked
  --simulate               use the built-in carrier simulator with a throwaway key (no carrier is called)
  --no-worker              only queue the batch and wait; reachscan worker processes (same Redis, same
                           file system) do the work
  --bom                    start the CSV outputs with a UTF-8 BOM, for Excel
  --no-formula-guard       keep input cells that start with = + - @ as they are (by default they get a
                           leading ' so spreadsheets do not run them)
  --strict                 exit 1 for invalid numbers or malformed records too, not only for failed lookups
  --error-threshold SHARE  pause the batch when more than this share (0.01–1) of its last --error-window
                           carrier calls failed (5xx, timeouts, dropped connections, transient insight
                           errors; refusals of the setup: UNAUTHORIZED, INVALID_PURPOSE, 403
                           PERMISSION_DENIED, HTTP 400/415/422; not 429s) instead of spending the quota;
                           default 0.5, 1 = never pause. scan says why and what to fix, and waits; go on
                           with reachscan resume <batch-id>
  --error-window N         carrier calls the share is taken over (default 200; nothing pauses sooner)
  --id-columns A,B         input columns shown beside each number in the reports' longest gaps (default: the
                           first two columns that are not the phone column); an unknown name exits 2
  --label NAME             runs with the same label share a trend in the report (reachable, not reachable,
                           stale, changes of the last runs; kept in Redis with the history)
  --sheet NAME             the worksheet of an .xlsx input (default: its first sheet); an unknown name exits 2
  --xlsx                   also write results.xlsx: the rows of results.csv (phone numbers as text, times as
                           dates), and the report's figures on a second sheet
  --webhook URL            send signed webhook events there (batch.completed, batch.failed, batch.paused,
                           device.changed; default REACHSCAN_WEBHOOK_URL; needs REACHSCAN_WEBHOOK_SECRET);
                           see docs/webhooks.md
  --webhook-wait DURATION  at the end, wait this long for the batch's deliveries (default 60s), then name those
                           still pending
  --budget N|25EUR         what the batch may spend: N upstream requests (auth and retries count), or money at
                           REACHSCAN_PRICES; it pauses before going over (docs/costs.md)

REACHSCAN_DAILY_QUOTA (requests a day per provider, every batch and worker together) pauses the batch when
it is used up, with the reason and the reset time; it goes on by itself after midnight in REACHSCAN_QUOTA_TZ
(default UTC). reachscan quota shows what is used and left (docs/costs.md#daily-quota-reachscan_daily_quota).

Redis: REDIS_URL (default redis://127.0.0.1:6379). When nothing answers there and redis-server is installed,
scan starts a private one for the run (it keeps no history between runs). The same command run again
resumes an interrupted batch. The history (each number's last answer, last seen reachable, unreachable
streak) lives in the same Redis under REACHSCAN_STATE_PREFIX and is written when a batch's results are final.

Exit codes: 0 every valid number answered (invalid cells and malformed records are findings, counted in the
summary and listed in results.csv and rejects.csv); 1 lookups failed after their retries, or with --strict
also invalid numbers or malformed records; 2 bad usage or input; 3 infrastructure or credentials; 130
interrupted.
`;

export const WORKER_HELP = `Usage: reachscan worker [--concurrency N]

Processes batches queued in Redis (REDIS_URL) by reachscan scan --no-worker and other producers. Run as many
as you like, on as many machines as share the Redis and the file system; they share one rate cap.
Credentials come from this process's environment (VONAGE_*, and CAMARA_* when set), never from the queue.
REACHSCAN_DAILY_QUOTA caps each provider's requests a day for every worker together (set the same on each);
at the quota, batches pause and go on by themselves after midnight in REACHSCAN_QUOTA_TZ (docs/costs.md).
SIGTERM or Ctrl-C: stops taking jobs, finishes those in hand, exits 0.
`;

export const RESUME_HELP = `Usage: reachscan resume <batch-id> [--budget N|25EUR]

Goes on with a paused batch: the error-ratio breaker paused it (more than --error-threshold of its recent
carrier calls failed, or were refused: UNAUTHORIZED, INVALID_PURPOSE, 403 PERMISSION_DENIED, a malformed
request), or the operator refused how it asks or its quota ran out (--provider camara). Its chunks go back
to the queue at once and start a fresh error window; numbers refused before a pause for refusals are asked
again. A batch paused by the daily quota (REACHSCAN_DAILY_QUOTA) goes on by itself after the reset; resume
makes it go on now (it pauses again while the quota is used up). A waiting scan, watch or the HTTP API
simply sees the batch running again. Uses REDIS_URL and REACHSCAN_QUEUE_PREFIX like the worker. --budget sets the batch's budget first: a batch paused with
"budget reached: …" goes on until the new one is spent.
Exit 0 when resumed; 2 when the batch is unknown or not paused.
`;

export const QUOTA_HELP = `Usage: reachscan quota [--json]

Shows today's daily quota for each provider (identity-insights, device-status, camara): the upstream requests
sent since midnight by every batch and worker on this Redis and queue prefix (auth requests and retries
included), what is left and the limit of REACHSCAN_DAILY_QUOTA ("-" without one), and when the day resets:
midnight in REACHSCAN_QUOTA_TZ (default UTC). When a provider's quota is used up, its batches pause and go on
by themselves after the reset (docs/costs.md#daily-quota).

Options:
  --json     one JSON object: time_zone, day, resets_at (ISO 8601), resets_at_local, and providers with
             used, left and limit (null without a quota)

Uses REDIS_URL and REACHSCAN_QUEUE_PREFIX like the worker. /metrics has the same figures
(reachscan_quota_used, reachscan_quota_left, reachscan_quota_limit).
`;

export const PLAN_HELP = `Usage: reachscan plan <file> [options]

Prints what a scan of <file> would do before anything is spent: rows, valid numbers, unique numbers, how
many the history answers (with --max-age), upstream requests needed, and the time at --rate.

Options:
  --provider NAME          identity-insights (default, 1 request per number), device-status (6: two
                           back-channel authorisations, two token exchanges, two calls) or camara (2 with
                           CAMARA_AUTH client-credentials or api-key, 4 with ciba, 6 with ciba per scope)
  --column NAME            the phone column (default: detected)
  --default-country CC     ISO country for numbers written in national form
  --max-age DURATION       count numbers checked within this time (24h, 7d…) as answered by the history
  --rate N                 upstream requests per second, for the time estimate
  --simulate               plan a --simulate scan (its history is kept apart from real answers)
  --json                   print the plan as JSON

Reads the history from REDIS_URL when it answers; without Redis, nothing counts as cached (it says so).
`;

export const REPORT_HELP = `Usage: reachscan report <results.csv> [--stale-days N] [--out DIR] [--id-columns A,B]

Rebuilds the stale list (no-connectivity-<N>d.csv), changes.csv, report.json, report.md and report.html
from a results file written by reachscan scan, for example with another --stale-days. Days without
connectivity count to each row's checked_at, so a rebuild shows what the scan showed.

Options:
  --stale-days N           the N of the stale list (default 60)
  --out DIR                where to write (default: the folder of the results file)
  --bom                    start the CSV outputs with a UTF-8 BOM, for Excel
  --id-columns A,B         input columns shown beside each number in the longest gaps (default: the first
                           two that are not the column that looks like the phone column)
`;

export const HISTORY_HELP = `Usage: reachscan history <number> [--default-country CC] [--simulate] [--json]
       reachscan history migrate

Shows what the history (REDIS_URL) holds about one number: its last answer, when it was last seen connected,
since when it has had no connectivity, what was last known, the purpose of the run that wrote it, when it was
written and when it will be forgotten. --simulate: the simulated runs' history.
history migrate moves every history entry to its key in the configured layout: into its bucket of
REACHSCAN_STATE_BUCKETS (from the single-slot history of earlier versions, or from another count) and, when
REACHSCAN_STATE_SECRET is set, from its number to its HMAC name. Stop workers first; a move cut short is
finished by running it again, and a second run moves nothing. See docs/history.md and docs/privacy.md.
`;

export const FORGET_HELP = `Usage: reachscan forget <number>... [--file F] [--default-country CC] [--simulate]

Erases the numbers from the history (REDIS_URL), under their hashed or clear name, and says how many of them
it held. --file F: one number per line (a CSV line's first cell; blank lines and # comments skipped).
See docs/privacy.md.
`;
