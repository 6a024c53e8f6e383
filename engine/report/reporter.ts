import type { RunEvent } from '../run/events.js';

/** Receives a run's events (already redacted) and shows or saves them. */
export interface Reporter {
  onEvent(event: RunEvent): void;
  /** Waits until everything is written. */
  finish(): Promise<void>;
}

export interface ReporterOptions {
  diff: boolean;
  verbose: number;
  colour: boolean;
  check: boolean;
  write: (text: string) => void;
}
