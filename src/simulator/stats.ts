/** Counters a test can read to assert exactly which calls were made (`GET /_sim/stats`). */
export interface SimulatorStats {
  /** API requests received (the `/_sim` endpoints are not counted). */
  requests: number;
  /** By HTTP status answered, plus `dropped` for connections destroyed without an answer. */
  byStatus: Record<string, number>;
  /** By `phone_number` as sent, for requests whose body carried one. */
  byNumber: Record<string, number>;
  byPath: Record<string, number>;
  /** Injected faults by name. */
  faults: Record<string, number>;
  /** 429s caused by the rate cap (not by an injected storm). */
  rateLimited: number;
  /** TCP connections accepted: stays small when clients keep connections alive. */
  connections: number;
  /** Distinct JWT ids seen on valid tokens: stays small when clients reuse their token. */
  distinctJwtIds: number;
  /** Most API requests that arrived within any sliding 1000 ms: what a carrier's per-second cap sees. */
  peakPerSecond: number;
  /**
   * The request id of each number's latest answer (Identity Insights `request_id`, the echoed CAMARA
   * `x-correlator`), for the last REQUEST_IDS_KEPT numbers: what a client should have recorded.
   */
  requestIds: Record<string, string>;
  /**
   * Answers given from a number's own device state (not an injected fault, a script or a refusal), by number:
   * one per Identity Insights request, one per Device Status `/connectivity` or `/roaming` call. A batch that
   * asked every number once has 1 here for each (2 with Device Status).
   */
  answeredByNumber: Record<string, number>;
}

/** The stats without what is kept per number (`GET /_sim/stats/counters`). */
export type SimulatorCounters = Omit<SimulatorStats, 'byNumber' | 'requestIds' | 'answeredByNumber'>;

/** Enough for any test file, small enough for a long benchmark run. */
const REQUEST_IDS_KEPT = 2_000;

export class StatsCounter {
  private data = StatsCounter.empty();
  private readonly jtis = new Set<string>();
  private readonly ids = new Map<string, string>();

  private static empty(): SimulatorStats {
    return {
      requests: 0,
      byStatus: {},
      byNumber: {},
      byPath: {},
      faults: {},
      rateLimited: 0,
      connections: 0,
      distinctJwtIds: 0,
      peakPerSecond: 0,
      requestIds: {},
      answeredByNumber: {},
    };
  }

  /** Arrival times (ms), oldest first; those before `head` are older than a second. */
  private recent: number[] = [];
  private head = 0;

  request(path: string, nowMs: number = performance.now()): void {
    this.data.requests++;
    bump(this.data.byPath, path);
    this.recent.push(nowMs);
    while ((this.recent[this.head] as number) <= nowMs - 1000) this.head++;
    if (this.head > 4096 && this.head * 2 > this.recent.length) {
      this.recent.splice(0, this.head);
      this.head = 0;
    }
    this.data.peakPerSecond = Math.max(this.data.peakPerSecond, this.recent.length - this.head);
  }
  number(phoneNumber: string): void {
    bump(this.data.byNumber, phoneNumber);
  }
  status(status: number | 'dropped'): void {
    bump(this.data.byStatus, String(status));
  }
  fault(name: string): void {
    bump(this.data.faults, name);
  }
  rateLimited(): void {
    this.data.rateLimited++;
  }
  connection(): void {
    this.data.connections++;
  }
  requestId(phoneNumber: string, id: string): void {
    this.ids.delete(phoneNumber); // set again last: the first key is the number answered longest ago
    this.ids.set(phoneNumber, id);
    if (this.ids.size > REQUEST_IDS_KEPT) this.ids.delete(this.ids.keys().next().value as string);
  }
  answered(phoneNumber: string): void {
    bump(this.data.answeredByNumber, phoneNumber);
  }
  jwtId(jti: string): void {
    this.jtis.add(jti);
    this.data.distinctJwtIds = this.jtis.size;
  }
  /**
   * The counters without the per-number records: cheap enough to read every second. A full snapshot of a long
   * run copies and serialises tens of thousands of entries, long enough to hold up the requests meanwhile and
   * so bunch their arrival times.
   */
  counters(): SimulatorCounters {
    const { byNumber: _n, requestIds: _r, answeredByNumber: _a, ...counters } = this.data;
    return structuredClone(counters);
  }
  snapshot(): SimulatorStats {
    return { ...structuredClone(this.data), requestIds: Object.fromEntries(this.ids) };
  }
  reset(): void {
    this.data = StatsCounter.empty();
    this.jtis.clear();
    this.ids.clear();
    this.recent = [];
    this.head = 0;
  }
}

function bump(record: Record<string, number>, key: string): void {
  record[key] = (record[key] ?? 0) + 1;
}
