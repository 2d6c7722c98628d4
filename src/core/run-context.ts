import type { Actor } from './events.js';

/** Injected clock, id source and identity, so tests can move time and replay exact ids. */
export interface RunContext {
  now: () => Date;
  newId: () => string;
  actor: Actor;
  progress?: (message: string) => void;
}
