export const MAIN_HELP = `reachscan: reachability and roaming of phone numbers, in bulk, through carrier APIs

Usage: reachscan <command> [options]

Commands:
  lookup <number>...   look numbers up now and print one line each
  simulate             run the carrier simulator (Vonage Identity Insights) on this machine
  help [command]       show help for a command

Exit codes:
  0  every number answered
  1  finished, but some numbers ended in error or were invalid
  2  bad usage or bad input
  3  infrastructure or credentials (configuration, carrier authentication)

Configuration comes from the environment (see the README): VONAGE_APPLICATION_ID, VONAGE_PRIVATE_KEY or
VONAGE_PRIVATE_KEY_PATH, VONAGE_API_BASE_URL, VONAGE_PURPOSE, VONAGE_IDENTITY_INSIGHTS_PATH,
REACHSCAN_HTTP_TIMEOUT_MS, REACHSCAN_LOG_LEVEL.
`;

export const LOOKUP_HELP = `Usage: reachscan lookup <number>... [options]

Looks each number up with Vonage Identity Insights (reachability and roaming in one call) and prints a table,
or JSON lines with --json. Transient failures are retried with backoff; a carrier's Retry-After is honoured.

Options:
  --simulate               start the built-in simulator with a throwaway key and ask it instead of Vonage
  --default-country CC     ISO country for numbers written in national form (e.g. GB for 07911 123456)
  --json                   one JSON object per number instead of a table
  --concurrency N          lookups in flight at once (default 8)

Try: reachscan lookup --simulate +990123400 +990123444 +447911123456
`;

export const SIMULATE_HELP = `Usage: reachscan simulate [options]

Runs a carrier simulator on this machine: Vonage Identity Insights at /identity-insights/v1/requests and
/v0.1/identity-insights, with JWT checks, deterministic answers per number and seed, and dials for latency,
a rate cap and faults. Counters at GET /_sim/stats; dials at GET/PATCH /_sim/dials.

Without --public-key it makes a throwaway application key pair, writes the private key to --key-out (or a
private temporary folder) and prints the environment to point reachscan at it.

Options:
  --host HOST                  listen address (default 127.0.0.1)
  --port N                     port, 0 picks a free one (default 4010)
  --seed TEXT                  outcomes are a pure function of seed and number (default reachscan)
  --anchor ISO-DATE            the time answers count back from (default 00:00 UTC today)
  --application-id UUID        accept this application id (default: a random one)
  --public-key PATH            accept JWTs signed by the private half of this public key
  --key-out PATH               where to write the throwaway private key (mode 0600)
  --latency-ms N               added to every answer (default 0)
  --jitter-ms N                plus a uniform random 0..N ms (default 0)
  --rate-cap N                 requests per second over a sliding 1 s window, 429 beyond (default 0 = none)
  --no-retry-after             send 429s without a Retry-After header
  --slow-response-ms N         how late a timeout fault answers (default 30000)
  --fault-500 P                share of requests answered 500 (0..1)
  --fault-503 P                share answered 503
  --fault-429 P                share answered 429 whatever the rate
  --fault-drop P               share whose connection is dropped without an answer
  --fault-timeout P            share answered after --slow-response-ms
  --fault-malformed P          share answered 200 with a truncated body
  --fault-supplier-error P     share answered 200 with every insight at SUPPLIER_ERROR
  --fault-internal-error P     share answered 200 with every insight at INTERNAL_ERROR
`;
