/** One benchmark: runs with its own files and simulator, on the run's private Redis; returns figures. */
export interface Scenario {
  readonly id: string;
  readonly title: string;
  /**
   * False for a scenario too long for every run (B6's 8 million rows): it runs only when `--scenario` names
   * it. Default true.
   */
  readonly defaultRun?: boolean;
  run(context: ScenarioContext): Promise<ScenarioResult>;
}

export interface ScenarioContext {
  /** Multiplies every size: 1 is the sizes, 0.05 a quick run. */
  readonly scale: number;
  /** A private redis-server for this scenario (fresh, so memory figures are its own). */
  readonly redisUrl: string;
  readonly log: (line: string) => void;
}

export interface ScenarioResult {
  readonly figures: Readonly<Record<string, unknown>>;
  /** Targets: each pass or miss is printed and saved. */
  readonly checks: readonly { readonly name: string; readonly pass: boolean }[];
}
